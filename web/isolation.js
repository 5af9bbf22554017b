// Makes the page cross-origin isolated where the host cannot send the
// COOP/COEP headers itself (GitHub Pages): registers isolation-sw.js, which
// adds them, and reloads once so the page comes back through it. Runs before
// app.js. Where isolation is impossible (no service workers, not a secure
// context, the reload did not help, or ?isolation=off) it does nothing and
// the app runs on one thread and says so.
(function () {
    'use strict';
    if (window.crossOriginIsolated) return;  // headers already there (scripts/serve, a configured host)
    const query = new URLSearchParams(window.location.search);
    if (query.get('isolation') === 'off') return;
    if (!window.isSecureContext || !('serviceWorker' in navigator)) return;
    const reloadedKey = 'convscope-isolation-reload';
    let reloadedBefore = false;
    try {
        reloadedBefore = window.sessionStorage.getItem(reloadedKey) === '1';
    } catch (error) { /* storage blocked: at most one reload anyway, below */ }
    navigator.serviceWorker.register('isolation-sw.js').then((registration) => {
        if (reloadedBefore) return;  // came back through the worker and still not isolated: give up quietly
        const reloadOnce = () => {
            try {
                window.sessionStorage.setItem(reloadedKey, '1');
            } catch (error) {
                return;  // without the flag a reload could loop
            }
            window.location.reload();
        };
        if (navigator.serviceWorker.controller) {
            reloadOnce();  // the worker controls this page but it was loaded before: reload through it
            return;
        }
        navigator.serviceWorker.addEventListener('controllerchange', reloadOnce, { once: true });
    }).catch(() => { /* e.g. blocked by the browser's settings: one thread */ });
})();
