import { KallmodError } from '@kallmod/core';

export async function run(_argv: string[]): Promise<number> {
  throw new KallmodError('resolve: not implemented yet', { exitCode: 2 });
}
