/** ELF64 x86-64 + DWARF reader: symbols and compile-unit ranges (objnames) of vmlinux / .ko. */
export type { ElfSection, CuRange, ElfObject } from './elf-object.js';
export type { ElfSymbol } from './symtab.js';
export { openElf, openElfBuffer, openElfAny } from './elf-object.js';
export { cuToObject } from './cu-object.js';
export { SourceLines, treeRelative, type SourceFrame } from './source-lines.js';
