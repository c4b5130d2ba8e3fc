/** Which annotation path is in use (`kallmod sources`): the one loader's answer, @kallmod/core/native. */
export { nativeStatus } from '@kallmod/core/native';
