// ConvScope's cross-origin isolation service worker, for static hosts that
// cannot send headers (GitHub Pages). The threaded engine needs
// SharedArrayBuffer, which a browser gives only to a cross-origin isolated
// page, i.e. one served with
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Embedder-Policy: require-corp
// This worker re-serves every same-origin response of its scope with those
// headers added (and Cross-Origin-Resource-Policy, so the page's own files
// pass require-corp). web/isolation.js registers it and reloads the page once;
// a host that sends the headers itself never needs it (docs/hosting.md).
'use strict';

const added = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
};

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function withIsolationHeaders(request) {
    const response = await fetch(request);
    // Opaque (no-cors cross-origin) and error responses cannot be rewritten;
    // they pass unchanged (require-corp then blocks opaque ones, as it would
    // with real headers).
    if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(added)) headers.set(name, value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('fetch', (event) => {
    const request = event.request;
    // A request the browser may only answer from its cache must not reach fetch().
    if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
    const url = new URL(request.url);
    if (url.origin !== self.location.origin) return;  // models from elsewhere: untouched
    // ?isolation=off on the page's address: the page as the host serves it (one thread).
    if (request.mode === 'navigate' && url.searchParams.get('isolation') === 'off') return;
    event.respondWith(withIsolationHeaders(request));
});
