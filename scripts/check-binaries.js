'use strict';
// Inspects built binaries: what each links at load time and which OS versions it asks for.
//   node scripts/check-binaries.js [dir] [target...]   (dir defaults to artifacts/)
// Linux glibc: only libc/libm/libgcc_s/the loader, no GLIBC_ symbol version newer than the
// target's floor (2.17); musl: musl's libc alone; macOS: only libSystem, libiconv and the
// CoreFoundation/Security frameworks, deployment target no newer than the table's, signed,
// every symbol bound to its library except Node's napi_*; Windows: only system DLLs. No binary
// may link OpenSSL (libssl/libcrypto). Exits 1 when a binary breaks a rule.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { TARGETS, binaryName } = require('./targets');

const GLIBC_LIBS = new Set(['libc.so.6', 'libm.so.6', 'libgcc_s.so.1', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1',
  'ld-linux-x86-64.so.2', 'ld-linux-aarch64.so.1']);
const MUSL_LIBS = new Set(['libc.so']);
const DARWIN_LIBS = new Set(['/usr/lib/libSystem.B.dylib', '/usr/lib/libiconv.2.dylib', '/usr/lib/libcharset.1.dylib',
  '/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation',
  '/System/Library/Frameworks/Security.framework/Versions/A/Security']);
// DLLs every Windows since 10 has; no MinGW runtime (libgcc_s_seh-1, libwinpthread-1), no node.exe
const WINDOWS_DLLS = new Set(['kernel32.dll', 'ntdll.dll', 'ws2_32.dll', 'bcrypt.dll', 'advapi32.dll', 'userenv.dll',
  'crypt32.dll', 'msvcrt.dll', 'secur32.dll', 'ncrypt.dll', 'shell32.dll', 'ole32.dll', 'oleaut32.dll', 'user32.dll',
  'bcryptprimitives.dll', 'synchronization.dll', 'api-ms-win-core-synch-l1-2-0.dll']);

function run(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

function has(cmd, args = ['--version']) {
  try {
    run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

/** rustup's llvm-objdump (`rustup component add llvm-tools`), or one on PATH, else null. */
function llvmObjdump() {
  try {
    const sysroot = run('rustc', ['--print', 'sysroot']).trim();
    const host = /host: (\S+)/.exec(run('rustc', ['-vV']))[1];
    const p = path.join(sysroot, 'lib', 'rustlib', host, 'bin', 'llvm-objdump');
    if (fs.existsSync(p)) return p;
  } catch {
    /* no rustc */
  }
  return has('llvm-objdump') ? 'llvm-objdump' : null;
}

const versionLess = (a, b) => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  }
  return false;
};

function checkElf(t, file) {
  const problems = [];
  const dyn = run('readelf', ['-d', '-W', file]);
  const needed = [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const allowed = t.libc === 'musl' ? MUSL_LIBS : GLIBC_LIBS;
  for (const lib of needed) if (!allowed.has(lib)) problems.push(`links ${lib}`);
  const versions = [...new Set([...run('readelf', ['-V', '-W', file]).matchAll(/Name: GLIBC_([0-9.]+)/g)].map((m) => m[1]))]
    .sort((a, b) => (versionLess(a, b) ? -1 : 1));
  const newest = versions.at(-1);
  if (t.libc === 'musl' && versions.length) problems.push(`asks for glibc symbol versions (GLIBC_${newest})`);
  if (t.libc === 'glibc' && newest && versionLess(t.glibc, newest)) problems.push(`needs GLIBC_${newest}, newer than ${t.glibc}`);
  const machine = /Machine:\s+(.*)/.exec(run('readelf', ['-h', '-W', file]))?.[1].trim();
  const wantMachine = t.cpu === 'x64' ? /X86-64/ : /AArch64/;
  if (!wantMachine.test(machine)) problems.push(`machine is ${machine}`);
  const facts = [`needs ${needed.join(', ') || 'nothing'}`];
  if (t.libc === 'glibc') facts.push(`newest glibc symbol GLIBC_${newest} (floor ${t.glibc})`);
  return { problems, facts };
}

function checkMachO(t, file) {
  const objdump = llvmObjdump();
  if (!objdump) return { problems: [], facts: ['not inspected: no llvm-objdump (rustup component add llvm-tools)'] };
  const problems = [];
  const used = run(objdump, ['--macho', '--dylibs-used', file]).split('\n').slice(1)
    .map((l) => l.trim().replace(/ \(compatibility.*$/, '')).filter(Boolean);
  const headers = run(objdump, ['--macho', '--private-headers', file]);
  const ownId = /cmd LC_ID_DYLIB[\s\S]*?name (\S+)/.exec(headers)?.[1];
  const libs = used.filter((l) => l !== ownId);
  for (const lib of libs) if (!DARWIN_LIBS.has(lib)) problems.push(`links ${lib}`);
  const minos = /cmd LC_BUILD_VERSION[\s\S]*?minos (\S+)/.exec(headers)?.[1]
    ?? /cmd LC_VERSION_MIN_MACOSX[\s\S]*?version (\S+)/.exec(headers)?.[1];
  if (!minos) problems.push('no deployment target recorded');
  else if (versionLess(t.minOs, minos)) problems.push(`needs macOS ${minos}, newer than ${t.minOs}`);
  const signed = /cmd LC_CODE_SIGNATURE/.test(headers);
  if (t.cpu === 'arm64' && !signed) problems.push('not signed (arm64 macOS loads signed code only)');
  const binds = ['--bind', '--lazy-bind', '--weak-bind'].map((f) => run(objdump, ['--macho', f, file])).join('\n');
  const flat = [...binds.matchAll(/flat-namespace\s+(\S+)/g)].map((m) => m[1])
    .filter((s) => !/^_(napi_|node_api_)/.test(s));
  if (flat.length) problems.push(`symbols left to a flat lookup at load time: ${[...new Set(flat)].slice(0, 8).join(', ')}`);
  const arch = /Mach header\n\s*magic cputype.*\n\s*\S+\s+(\S+)/.exec(headers)?.[1];
  if (arch !== (t.cpu === 'x64' ? 'X86_64' : 'ARM64')) problems.push(`cpu type is ${arch}`);
  const facts = [`needs ${libs.map((l) => path.basename(l)).join(', ')}`, `macOS ${minos}+`, signed ? 'signed (ad hoc)' : 'unsigned',
    `cpu ${arch}`];
  return { problems, facts };
}

function checkPe(t, file) {
  const objdump = has('x86_64-w64-mingw32-objdump') ? 'x86_64-w64-mingw32-objdump' : llvmObjdump();
  if (!objdump) return { problems: [], facts: ['not inspected: no objdump for PE files'] };
  const out = run(objdump, ['-p', file]);
  const dlls = [...new Set([...out.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]))];
  const problems = dlls.filter((d) => !WINDOWS_DLLS.has(d.toLowerCase()) && !/^api-ms-win-/i.test(d))
    .map((d) => `links ${d}`);
  return { problems, facts: [`needs ${dlls.join(', ')}`] };
}

/** Checks one binary; `{ problems: string[], facts: string[] }`. */
function checkBinary(t, file) {
  const kind = has('file') ? run('file', ['-b', file]).trim() : '';
  const result = t.os === 'linux' ? checkElf(t, file) : t.os === 'darwin' ? checkMachO(t, file) : checkPe(t, file);
  if (/ssl|crypto\.so|libcrypto/i.test(result.facts.join(' '))) result.problems.push('links OpenSSL');
  if (kind) result.facts.unshift(kind.replace(/, BuildID\[[^\]]*\]=\S+/, ''));
  return result;
}

function main() {
  const args = process.argv.slice(2);
  const dir = args[0] && !TARGETS.some((t) => t.name === args[0]) ? args.shift() : path.join(__dirname, '..', 'artifacts');
  const wanted = args.length ? TARGETS.filter((t) => args.includes(t.name)) : TARGETS;
  let bad = 0;
  for (const t of wanted) {
    const file = findBinary(dir, t);
    if (!file) {
      console.log(`${t.name}: no ${binaryName(t)} under ${dir}`);
      continue;
    }
    const { problems, facts } = checkBinary(t, file);
    console.log(`${t.name}: ${problems.length ? 'FAIL' : 'ok'}\n  ${facts.join('\n  ')}`);
    for (const p of problems) console.log(`  problem: ${p}`);
    if (problems.length) bad++;
  }
  process.exitCode = bad ? 1 : 0;
}

/** The target's binary under dir (searched one level deep too, as CI downloads artifacts). */
function findBinary(dir, t) {
  const name = binaryName(t);
  if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  if (!fs.existsSync(dir)) return null;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && fs.existsSync(path.join(dir, e.name, name))) return path.join(dir, e.name, name);
  }
  return null;
}

module.exports = { checkBinary, findBinary, llvmObjdump };
if (require.main === module) main();
