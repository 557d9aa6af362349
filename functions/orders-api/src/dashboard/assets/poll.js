// Freshness without a reload: run `task` every `every` ms while the tab is visible, back off on
// errors (doubling up to `max`), stop entirely while the tab is hidden, and run at once when it
// becomes visible again. One open list costs 12 calls a minute, an order page 12 (plus the
// notices every 30 s); a hidden tab costs nothing.

export function poll(task, { every = 5000, max = 60000 } = {}) {
  let timer = null;
  let delay = every;
  let running = false;
  let stopped = false;

  const schedule = () => {
    clearTimeout(timer);
    if (!stopped && document.visibilityState === 'visible') timer = setTimeout(tick, delay);
  };
  const tick = async () => {
    if (stopped || running) return;
    running = true;
    try {
      await task();
      delay = every;
    } catch {
      delay = Math.min(delay * 2, max);
    } finally {
      running = false;
      schedule();
    }
  };
  const onVisibility = () => {
    if (document.visibilityState === 'visible') {
      delay = every;
      tick();
    } else {
      clearTimeout(timer);
    }
  };
  document.addEventListener('visibilitychange', onVisibility);
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    },
    now: tick,
  };
}
