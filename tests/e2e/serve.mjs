// A tiny static file server for the built site (build/wasm/dist), on the
// loopback interface only. Used by the e2e tests and by scripts/serve.
//
//   node tests/e2e/serve.mjs --root build/wasm/dist --port 8080
//   (--port 0 picks a free port; the URL is printed either way)
//   --no-isolation leaves out the COOP/COEP headers (to try the
//   single-threaded fallback)
//
// Every response carries Cross-Origin-Opener-Policy: same-origin and
// Cross-Origin-Embedder-Policy: require-corp, which make the page
// cross-origin isolated: SharedArrayBuffer exists and the threaded engine can
// run (docs/hosting.md).
//
// Also importable: startServer({root, port, isolation = true}) -> {url, port, close()}.
import { createServer } from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const mimeTypes = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.json': 'application/json; charset=utf-8',
    '.wasm': 'application/wasm',
    '.png': 'image/png',
    '.jpg': 'image/jpeg',
    '.svg': 'image/svg+xml',
    '.ico': 'image/x-icon',
    '.ttf': 'font/ttf',
    '.woff2': 'font/woff2',
    '.txt': 'text/plain; charset=utf-8',
    '.md': 'text/markdown; charset=utf-8',
    '.h5': 'application/x-hdf5',
    '.keras': 'application/zip',
    '.onnx': 'application/octet-stream',
};

// Maps a URL path into root; null when it would escape root.
function resolveInRoot(root, urlPath) {
    let decoded;
    try {
        decoded = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
    } catch {
        return null;
    }
    if (decoded.includes('\0')) return null;
    const resolved = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
    if (resolved !== root && !resolved.startsWith(root + path.sep)) return null;
    return resolved;
}

// The headers that make a page cross-origin isolated (SharedArrayBuffer).
export const isolationHeaders = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
};

async function handle(root, request, response, isolation) {
    const extra = isolation ? isolationHeaders : {};
    if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { Allow: 'GET, HEAD', ...extra }).end();
        return;
    }
    let filePath = resolveInRoot(root, request.url || '/');
    if (!filePath) {
        response.writeHead(400, { 'Content-Type': 'text/plain', ...extra }).end('bad path\n');
        return;
    }
    let stat;
    try {
        stat = await fs.stat(filePath);
        if (stat.isDirectory()) {
            filePath = path.join(filePath, 'index.html');
            stat = await fs.stat(filePath);
        }
    } catch {
        response.writeHead(404, { 'Content-Type': 'text/plain', ...extra }).end('not found\n');
        return;
    }
    response.writeHead(200, {
        'Content-Type': mimeTypes[path.extname(filePath).toLowerCase()] || 'application/octet-stream',
        'Content-Length': stat.size,
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        ...extra,
    });
    if (request.method === 'HEAD') {
        response.end();
        return;
    }
    createReadStream(filePath).on('error', () => response.destroy()).pipe(response);
}

export async function startServer({ root, port = 0, isolation = true }) {
    const absoluteRoot = path.resolve(root);
    const stat = await fs.stat(absoluteRoot).catch(() => null);
    if (!stat || !stat.isDirectory()) throw new Error(`serve: root ${absoluteRoot} is not a directory`);
    const server = createServer((request, response) => {
        handle(absoluteRoot, request, response, isolation).catch(() => {
            if (!response.headersSent) response.writeHead(500);
            response.end();
        });
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
    });
    const actualPort = server.address().port;
    return {
        url: `http://127.0.0.1:${actualPort}/`,
        port: actualPort,
        close: () => new Promise((resolve) => server.close(resolve)),
    };
}

function parseArguments(argv) {
    const options = { root: 'build/wasm/dist', port: 8080, isolation: true };
    for (let i = 0; i < argv.length; ++i) {
        const name = argv[i];
        const value = argv[i + 1];
        if (name === '--root' && value !== undefined) {
            options.root = value;
            ++i;
        } else if (name === '--port' && value !== undefined && /^\d+$/.test(value) && Number(value) < 65536) {
            options.port = Number(value);
            ++i;
        } else if (name === '--no-isolation') {
            options.isolation = false;
        } else {
            throw new Error(`serve: unknown or incomplete argument '${name}'; usage: serve.mjs [--root DIR] [--port N] [--no-isolation]`);
        }
    }
    return options;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    try {
        const options = parseArguments(process.argv.slice(2));
        const server = await startServer(options);
        console.log(`ConvScope is served at ${server.url} (${options.isolation ? 'cross-origin isolated: threads available' : 'not isolated: one thread'}; Ctrl+C stops)`);
    } catch (failure) {
        console.error(failure.message);
        process.exit(1);
    }
}
