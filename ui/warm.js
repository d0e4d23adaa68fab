// Import Streamlit's element modules once the page is idle (ui/warm.py writes in their file names: no user input).
(() => {
  const index = document.querySelector('script[type=module][src*="/static/js/index."]');
  if (!index || window.__harmonicaWarm) return;
  window.__harmonicaWarm = true;
  const modules = __MODULES__;

  // Plotly's first drawing sets itself up (~0.1 s here): done once, off screen, on a throwaway chart.
  const draw = () => {
    const P = window.Plotly;
    if (!P) return;
    const div = document.createElement('div');
    div.style.cssText = 'position:absolute;left:-10000px;top:0;width:400px;height:200px';
    document.body.appendChild(div);
    return P.newPlot(div, [{type: 'bar', x: [1], y: ['a'], orientation: 'h'}], {}, {staticPlot: true})
      .finally(() => { P.purge(div); div.remove(); });
  };
  const load = () => Promise.all(modules.map(m => import(new URL(m, index.src).href).catch(() => {})))
    .then(draw).catch(() => {});

  // Only once the page has stayed drawn for a second (no placeholder, no script run): never in its way, and nothing
  // spent on pages a person (or a test) only passes through.
  const drawn = () => !document.querySelector('[data-testid="stSkeleton"]') &&
    document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === 'notRunning';
  let calm = 0;
  const timer = setInterval(() => {
    calm = drawn() ? calm + 1 : 0;
    if (calm < 4) return;
    clearInterval(timer);
    if ('requestIdleCallback' in window) requestIdleCallback(load, {timeout: 2000}); else load();
  }, 250);
})();
