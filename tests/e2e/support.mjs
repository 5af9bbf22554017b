// What the browser end-to-end tests share: where the built site is, how
// Chromium is started, dropping bytes on the canvas, and reading the .npy
// files the native CLI writes (independently of the C++ reader).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
export const outputDir = path.join(here, 'output');
// CONVSCOPE_DIST / CONVSCOPE_CLI test another build than the default one.
export const distDir = path.resolve(process.env.CONVSCOPE_DIST || path.join(repoRoot, 'build/wasm/dist'));
export const cliPath = path.resolve(process.env.CONVSCOPE_CLI || path.join(repoRoot, 'build/native/convscope'));

// Debian's Chromium, never a downloaded one; software WebGL 2 (no GPU here).
export const chromiumArgs = [
    '--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
];

// A drop of one file on the canvas, as a user's drag and drop fires it.
export async function dropOnCanvas(page, name, bytes) {
    await page.evaluate(({ name, base64 }) => {
        const binary = atob(base64);
        const data = new Uint8Array(binary.length);
        for (let i = 0; i < binary.length; ++i) data[i] = binary.charCodeAt(i);
        const transfer = new DataTransfer();
        transfer.items.add(new File([data], name));
        const canvas = document.getElementById('canvas');
        for (const type of ['dragenter', 'dragover', 'drop']) {
            canvas.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }
    }, { name, base64: Buffer.from(bytes).toString('base64') });
}

// A float32 little-endian C-order .npy (what `convscope response` and
// `convscope explain` write).
export function readNpyFloat32(file) {
    const bytes = readFileSync(file);
    assert.equal(bytes.subarray(1, 6).toString('latin1'), 'NUMPY');
    const major = bytes[6];
    const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
    const headerStart = major === 1 ? 10 : 12;
    const header = bytes.subarray(headerStart, headerStart + headerLength).toString('latin1');
    assert.match(header, /'descr': '<f4'/);
    assert.match(header, /'fortran_order': False/);
    const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
    const data = bytes.subarray(headerStart + headerLength);
    const values = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
    return { shape, values };
}
