package layout

// CSS is the site's style sheet, served as /style.css.
const CSS = `:root {
  --fg: #1d1f27; --muted: #5c6070; --bg: #ffffff; --accent: #6d3fd6;
  --bar: #17141f; --code-bg: #f4f2f9; --rule: #e3e0ea;
  --ok: #2e9d5b; --partial: #d99a1e; --refused: #c8444b;
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e4ec; --muted: #a09cae; --bg: #131118; --accent: #b496ff;
          --bar: #0b0a0f; --code-bg: #1f1c27; --rule: #2d2938; }
}
* { box-sizing: border-box; }
html { font-size: 17px; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 1rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
}
header {
  display: flex; flex-wrap: wrap; align-items: baseline; gap: .4rem 1.6rem;
  padding: .9rem max(1.2rem, calc((100% - 52rem) / 2)); background: var(--bar);
}
header .brand { color: #fff; font-weight: 700; font-size: 1.3rem; letter-spacing: .02em; text-decoration: none; }
header .brand::before { content: "\25C6 "; color: #b496ff; }
nav { display: flex; flex-wrap: wrap; gap: .2rem 1.1rem; }
nav a { color: #cfc8e6; text-decoration: none; font-size: .95rem; }
nav a:hover { color: #fff; }
nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #b496ff; }
main { max-width: 52rem; margin: 0 auto; padding: 1.5rem 1.2rem 3rem; }
h1, h2, h3 { line-height: 1.25; margin: 2rem 0 .8rem; }
h1 { font-size: 2rem; margin-top: .8rem; }
h2 { font-size: 1.45rem; padding-bottom: .3rem; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.15rem; }
a { color: var(--accent); }
code, pre { font: .86rem/1.5 ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace; }
code { background: var(--code-bg); padding: .1em .3em; border-radius: 4px; }
pre { background: var(--code-bg); padding: .9rem 1rem; border-radius: 6px; overflow-x: auto; font-size: .78rem; }
pre code { background: none; padding: 0; font-size: inherit; }
table { border-collapse: collapse; margin: 1rem 0; display: block; overflow-x: auto; font-size: .93rem; }
th, td { border: 1px solid var(--rule); padding: .35rem .7rem; text-align: left; vertical-align: top; }
th { background: var(--code-bg); }
td code, footer code { white-space: nowrap; }
blockquote { margin: 1rem 0; padding: .1rem 1rem; border-left: 4px solid var(--accent); color: var(--muted); }
img { max-width: 100%; }
footer {
  max-width: 52rem; margin: 0 auto; padding: 1.2rem; border-top: 1px solid var(--rule);
  color: var(--muted); font-size: .85rem;
}
.lead { font-size: 1.1rem; color: var(--muted); }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 1rem; margin: 1.5rem 0; }
.fact { border: 1px solid var(--rule); border-radius: 8px; padding: .9rem 1rem; }
.fact .label { color: var(--muted); font-size: .85rem; text-transform: uppercase; letter-spacing: .05em; }
.fact .value { font-size: 1.7rem; font-weight: 700; line-height: 1.3; }
.fact .note { color: var(--muted); font-size: .85rem; }
.abi-bar { display: flex; height: 1.1rem; border-radius: 4px; overflow: hidden; margin: .5rem 0; }
.abi-bar span { display: block; }
.abi-bar .supported, .key .supported::before { background: var(--ok); }
.abi-bar .partial, .key .partial::before { background: var(--partial); }
.abi-bar .refused, .key .refused::before { background: var(--refused); }
.key { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; font-size: .9rem; }
.key span::before { content: ""; display: inline-block; width: .8em; height: .8em; margin-right: .35em; border-radius: 2px; }
`
