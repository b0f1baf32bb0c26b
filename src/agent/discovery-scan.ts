/**
 * The agent's filesystem discovery: walks directories for certificates and returns what to
 * report. Each certificate is checked locally (one well-formed X.509 certificate) so a single
 * broken file becomes an error line, not a rejected report; the server derives every field
 * again from the certificate itself.
 *
 * - `.pem .crt .cer .cert`: every CERTIFICATE block; `.der`: the file as one DER certificate;
 *   `.key` and extension-less files are skipped; any other extension is read only if it holds a
 *   PEM CERTIFICATE block (configuration files do not produce errors).
 * - Files over 1 MiB are skipped; symbolic links to directories are not followed (no cycles),
 *   links to files are.
 */
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { toPem } from '../pki/certificate.ts';
import { certificateInfo, pemCertificateDer } from '../pki/certificate-info.ts';
import { truncate } from '../text.ts';

export interface FoundFile {
  pem_data: string;
  source_path: string;
  source_format: 'PEM' | 'DER';
}

export interface ScanResult {
  directories: string[];
  certificates: FoundFile[];
  errors: string[];
  scan_duration_ms: number;
}

const pemExtensions = new Set(['.pem', '.crt', '.cer', '.cert']);
const maxFileBytes = 1024 * 1024;
const maxDepth = 32;
const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export async function scanDirectories(directories: readonly string[]): Promise<ScanResult> {
  const started = performance.now();
  const result: ScanResult = { directories: [...directories], certificates: [], errors: [], scan_duration_ms: 0 };
  for (const dir of directories) await walk(path.resolve(dir), 0, result);
  // The server takes up to 1,000 error lines of up to 1,000 characters each.
  result.errors = result.errors.slice(0, 1000).map((e) => truncate(e, 1000));
  result.scan_duration_ms = Math.round(performance.now() - started);
  return result;
}

async function walk(dir: string, depth: number, out: ScanResult): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    out.errors.push(`${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return;
  }
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (depth < maxDepth) await walk(file, depth + 1, out);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      await readFile(file, out);
    }
  }
}

async function readFile(file: string, out: ScanResult): Promise<void> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '' || ext === '.key') return;
  try {
    const stat = await fs.stat(file); // follows a link to a file; a link to a directory is skipped
    if (!stat.isFile() || stat.size > maxFileBytes) return;
    const data = await fs.readFile(file);
    if (ext === '.der') {
      certificateInfo(data); // throws unless the file is exactly one certificate
      out.certificates.push({ pem_data: toPem(data), source_path: file, source_format: 'DER' });
      return;
    }
    const blocks = data.toString('latin1').match(pemBlock) ?? [];
    if (blocks.length === 0 && !pemExtensions.has(ext)) return;
    blocks.forEach((block, i) => {
      try {
        certificateInfo(pemCertificateDer(block));
        out.certificates.push({ pem_data: `${block}\n`, source_path: file, source_format: 'PEM' });
      } catch (err) {
        out.errors.push(`${file}: certificate ${i + 1}: ${(err as Error).message}`);
      }
    });
  } catch (err) {
    out.errors.push(`${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Reports of at most `size` certificates (the server takes up to 1,000 per report). */
export function* reportChunks(scan: ScanResult, size = 500): Generator<ScanResult> {
  for (let i = 0; i === 0 || i < scan.certificates.length; i += size) {
    yield { ...scan, certificates: scan.certificates.slice(i, i + size), errors: i === 0 ? scan.errors : [] };
  }
}
