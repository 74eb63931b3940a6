// The page around the converter. All the work is done by the Go code of
// the CLI, compiled to WebAssembly (main.wasm, see web/wasm): this file
// only wires the form to it. After main.wasm has loaded, the page makes no
// request: the input and options live in the URL fragment (docs/web.md),
// which browsers never send.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const started = performance.now();
  // Read by the browser test and shown in the footer.
  const timings = (window.pspMigrateTimings = { ready: 0, firstConversion: 0 });
  const state = { engines: [], engine: "", last: null, conversions: 0, examples: [] };
  const bugURL = "https://github.com/psp-migrate/kubectl-psp-migrate/issues/new";
  // Issue bodies travel in the URL: keep them within what browsers and
  // GitHub take.
  const maxBugInput = 6000;

  // --- URL fragment: #psp=<base64url of the YAML>&engine=...&mode=...&mutate=1&templates=1

  function b64urlEncode(text) {
    const bytes = new TextEncoder().encode(text);
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function b64urlDecode(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    const bin = atob(s);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  }

  function fragment() {
    const p = new URLSearchParams();
    if ($("input").value) p.set("psp", b64urlEncode($("input").value));
    if (state.engine) p.set("engine", state.engine);
    if ($("mode").value !== "enforce") p.set("mode", $("mode").value);
    if ($("mutate").checked) p.set("mutate", "1");
    if ($("templates").checked) p.set("templates", "1");
    return "#" + p.toString();
  }

  function loadFragment() {
    const p = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (p.has("psp")) {
      try {
        $("input").value = b64urlDecode(p.get("psp"));
      } catch (e) {
        showError({ message: "the link's psp= is not base64url of UTF-8 text: " + e.message });
      }
    }
    if (p.has("engine")) state.engine = p.get("engine");
    if (["enforce", "audit", "warn"].includes(p.get("mode"))) $("mode").value = p.get("mode");
    $("mutate").checked = p.get("mutate") === "1";
    $("templates").checked = p.get("templates") === "1";
  }

  function saveFragment() {
    const f = fragment();
    history.replaceState(null, "", f);
    $("share").href = f;
  }

  // --- Converting

  function request() {
    return JSON.stringify({
      input: $("input").value,
      mode: $("mode").value,
      mutate: $("mutate").checked,
      gatekeeperTemplates: $("templates").checked,
    });
  }

  function convert() {
    saveFragment();
    updateGutter(0);
    if (!$("input").value.trim()) {
      state.last = null;
      render(null);
      return;
    }
    const resp = JSON.parse(window.pspMigrate.convert(request()));
    state.last = resp;
    state.conversions++;
    if (!timings.firstConversion) {
      timings.firstConversion = Math.round(performance.now() - started);
      footer();
    }
    render(resp);
  }

  function render(resp) {
    $("error").hidden = true;
    $("warnings").replaceChildren();
    $("levels").tBodies[0].replaceChildren();
    $("scope").textContent = "";
    updateBugLink();
    if (resp && resp.error) {
      showError(resp.error);
    }
    const byEngine = {};
    ((resp && resp.engines) || []).forEach((e) => (byEngine[e.engine] = e));
    if (resp && !resp.error) {
      $("scope").textContent =
        resp.scope === "rbac"
          ? "RBAC pasted: each PSP applies where a service account may use it (--scope rbac)."
          : "No RBAC pasted: every PSP applies to every pod (--scope cluster).";
      (resp.warnings || []).forEach((w) => {
        const p = document.createElement("p");
        p.className = "warning";
        p.textContent = "Warning: " + w;
        $("warnings").append(p);
      });
      (resp.psps || []).forEach((l) => {
        const tr = document.createElement("tr");
        const name = document.createElement("td");
        name.textContent = l.name;
        const level = document.createElement("td");
        level.textContent = l.level;
        level.className = "level-" + l.level;
        const looser = document.createElement("td");
        looser.textContent = (l.looser || []).join("; ") || "—";
        tr.append(name, level, looser);
        $("levels").tBodies[0].append(tr);
      });
    }
    state.engines.forEach((engine) => renderPanel(engine, byEngine[engine]));
    document.body.dataset.conversions = String(state.conversions);
    document.body.dataset.state = resp ? (resp.error ? "error" : "done") : "empty";
  }

  function renderPanel(engine, out) {
    const panel = $("panel-" + engine);
    const tab = $("tab-" + engine);
    tab.classList.toggle("failed", !!(out && out.error));
    panel.querySelector(".command").textContent = out ? out.command : "";
    const notes = panel.querySelector(".notes");
    notes.replaceChildren();
    ((out && out.diagnostics) || []).forEach((d) => {
      const li = document.createElement("li");
      li.textContent = d;
      notes.append(li);
    });
    const err = panel.querySelector(".error");
    err.hidden = !(out && out.error);
    err.textContent = out && out.error ? "Error: " + out.error : "";
    panel.querySelector("pre.output").textContent = out ? out.output : "";
    panel.querySelectorAll("button").forEach((b) => (b.disabled = !out || !!out.error || b.dataset.needsOutput === "1" && !out.output));
  }

  function showError(e) {
    const box = $("error");
    box.hidden = false;
    box.textContent = (e.line ? "Line " + e.line + ": " : "") + e.message;
    box.dataset.line = e.line || "";
    updateGutter(e.line || 0);
    if (e.line) {
      // Put the caret on the line, so that the fix is one keystroke away.
      const lines = $("input").value.split("\n");
      const start = lines.slice(0, e.line - 1).reduce((n, l) => n + l.length + 1, 0);
      box.onclick = () => {
        $("input").focus();
        $("input").setSelectionRange(start, start + (lines[e.line - 1] || "").length);
      };
    }
  }

  function updateGutter(bad) {
    const n = $("input").value.split("\n").length;
    const g = $("gutter");
    g.replaceChildren();
    for (let i = 1; i <= n; i++) {
      const s = document.createElement("span");
      s.textContent = String(i);
      if (i === bad) s.className = "bad";
      g.append(s, "\n");
    }
    g.scrollTop = $("input").scrollTop;
  }

  function updateBugLink() {
    let input = $("input").value;
    if (input.length > maxBugInput) input = input.slice(0, maxBugInput) + "\n# … (cut: paste the rest)";
    const version = window.pspMigrate ? window.pspMigrate.version() : "unknown";
    const body =
      "**Version:** " + version + " (browser converter)\n" +
      "**Options:** engine=" + (state.engine || "") + " mode=" + $("mode").value +
      ($("mutate").checked ? " mutate" : "") + ($("templates").checked ? " gatekeeper-templates" : "") + "\n\n" +
      "**Input:**\n\n```yaml\n" + input + "\n```\n\n**What happened, and what you expected:**\n\n";
    const p = new URLSearchParams({ title: "converter: ", body: body });
    $("bug").href = bugURL + "?" + p.toString();
  }

  // --- Tabs, copy, download

  function buildTabs() {
    state.engines.forEach((engine) => {
      const tab = document.createElement("button");
      tab.type = "button";
      tab.id = "tab-" + engine;
      tab.setAttribute("role", "tab");
      tab.textContent = engine;
      tab.onclick = () => selectTab(engine);
      $("tabs").append(tab);

      const panel = document.createElement("div");
      panel.id = "panel-" + engine;
      panel.className = "panel";
      panel.setAttribute("role", "tabpanel");
      panel.dataset.engine = engine;
      const actions = document.createElement("div");
      actions.className = "actions";
      const cmd = document.createElement("code");
      cmd.className = "command";
      const copy = document.createElement("button");
      copy.type = "button";
      copy.textContent = "Copy";
      copy.dataset.needsOutput = "1";
      copy.onclick = () => copyText(panel.querySelector("pre.output").textContent, copy);
      const dl = document.createElement("button");
      dl.type = "button";
      dl.textContent = "Download";
      dl.dataset.needsOutput = "1";
      dl.onclick = () => download(engine + ".yaml", new Blob([panel.querySelector("pre.output").textContent], { type: "application/yaml" }));
      actions.append(cmd, copy, dl);
      const err = document.createElement("div");
      err.className = "error";
      err.hidden = true;
      const notes = document.createElement("ul");
      notes.className = "notes";
      const pre = document.createElement("pre");
      pre.className = "output";
      pre.dataset.engine = engine;
      panel.append(actions, err, notes, pre);
      $("panels").append(panel);
    });
    if (!state.engines.includes(state.engine)) state.engine = state.engines[0];
    selectTab(state.engine);
  }

  function selectTab(engine) {
    state.engine = engine;
    state.engines.forEach((e) => {
      $("tab-" + e).setAttribute("aria-selected", String(e === engine));
      $("panel-" + e).hidden = e !== engine;
    });
    saveFragment();
    updateBugLink();
  }

  function copyText(text, button) {
    const done = () => {
      const old = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = old), 1200);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
    } else {
      fallbackCopy(text, done);
    }
  }

  function fallbackCopy(text, done) {
    const ta = document.createElement("textarea");
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
    done();
  }

  function download(name, blob) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  function downloadZip() {
    const out = window.pspMigrate.zip(request());
    if (typeof out === "string") {
      showError({ message: "zip: " + out });
      return;
    }
    download("psp-migrate-policies.zip", new Blob([out], { type: "application/zip" }));
  }

  // --- Start

  let timer = 0;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(convert, 250);
  }

  function ready() {
    timings.ready = Math.round(performance.now() - started);
    state.engines = JSON.parse(window.pspMigrate.engines());
    state.examples = JSON.parse(window.pspMigrate.examples());
    state.examples.forEach((ex) => {
      const o = document.createElement("option");
      o.value = ex.name;
      o.textContent = ex.name;
      $("example").append(o);
    });
    $("version").textContent = "Version " + window.pspMigrate.version() + ".";
    loadFragment();
    buildTabs();
    $("input").addEventListener("input", schedule);
    $("input").addEventListener("scroll", () => ($("gutter").scrollTop = $("input").scrollTop));
    ["mode", "mutate", "templates"].forEach((id) => $(id).addEventListener("change", convert));
    $("example").addEventListener("change", () => {
      const ex = state.examples.find((x) => x.name === $("example").value);
      if (ex) {
        $("input").value = ex.yaml;
        convert();
      }
    });
    $("zip").addEventListener("click", downloadZip);
    window.addEventListener("hashchange", () => {
      if (location.hash !== fragment()) {
        loadFragment();
        selectTab(state.engines.includes(state.engine) ? state.engine : state.engines[0]);
        convert();
      }
    });
    // For tests and the impatient: convert now, without the typing delay.
    window.pspMigrateApp = { convert: convert };
    footer();
    convert();
  }

  function footer() {
    document.querySelector("footer").textContent =
      "Converter loaded in " + timings.ready + " ms" +
      (timings.firstConversion ? "; first conversion " + timings.firstConversion + " ms after the page started" : "") +
      ". Built from the same Go code as the kubectl plugin.";
  }

  async function load() {
    const go = new Go();
    window.pspMigrateReady = ready;
    let result;
    try {
      if (WebAssembly.instantiateStreaming) {
        result = await WebAssembly.instantiateStreaming(fetch("main.wasm"), go.importObject);
      } else {
        throw new Error("no streaming");
      }
    } catch (e) {
      // Hosts that serve .wasm with another Content-Type.
      const resp = await fetch("main.wasm");
      if (!resp.ok) throw new Error("main.wasm: HTTP " + resp.status);
      result = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
    }
    go.run(result.instance);
  }

  load().catch((e) => {
    document.body.dataset.state = "failed";
    document.querySelector("footer").textContent = "Could not load the converter: " + e.message;
  });
})();
