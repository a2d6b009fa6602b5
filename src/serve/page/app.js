// hallmark web page: post each chosen image to the API and render the
// report. Everything is built with DOM nodes and textContent (never
// innerHTML), so nothing in a file or a manifest can inject markup.
"use strict";

const VERDICTS = {
  ai_generated: ["AI-generated", "ai"],
  ai_edited: ["Edited with AI", "ai"],
  likely_ai: ["Probably AI (classifier only)", "warn"],
  camera_capture: ["Camera capture", "camera"],
  likely_camera: ["Probably a camera photo", "camera"],
  edited: ["Edited", "info"],
  signed: ["Signed", "info"],
  watermarked: ["Watermarked", "info"],
  tampered: ["Tampered", "ai"],
  conflicting: ["Conflicting evidence", "warn"],
  inconclusive: ["Inconclusive", "none"],
};

const CAVEAT =
  "The classifier is the weakest evidence: a statistical score that is wrong on some " +
  "images, drops on heavily processed photos, and is never proof on its own. A low " +
  "score does not mean a camera took the picture.";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function sourceTypeName(iri) {
  if (!iri) return null;
  const parts = String(iri).replace(/\/+$/, "").split("/");
  return parts[parts.length - 1];
}

function facts(pairs) {
  const dl = el("dl", { class: "facts" });
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === "") continue;
    dl.append(el("dt", {}, k), el("dd", {}, v));
  }
  return dl.children.length ? dl : null;
}

async function post(path, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await fetch(path, { method: "POST", body: form });
  return response;
}

async function postJson(path, file) {
  const r = await post(path, file);
  let body = null;
  try {
    body = await r.json();
  } catch (e) {
    body = { error: "the server's answer was not JSON (HTTP " + r.status + ")", kind: "bad_answer" };
  }
  return { ok: r.ok, status: r.status, body };
}

function evidenceList(evidence) {
  if (!evidence || !evidence.length) return el("p", { class: "missing" }, "No evidence either way.");
  return el(
    "ul",
    { class: "evidence" },
    evidence.map((e) =>
      el(
        "li",
        { "data-strength": e.strength },
        el("span", { class: "badge s-" + e.strength }, e.strength),
        el("span", { class: "kind" }, e.kind),
        e.finding,
      ),
    ),
  );
}

function ingredientTree(list) {
  if (!list || !list.length) return null;
  return el(
    "ul",
    { class: "tree" },
    list.map((i) => {
      const who = i.manifest ? (i.signer ? "signed by " + i.signer : "has a manifest") : "no manifest";
      const kind = i.digital_source_type ? ", " + sourceTypeName(i.digital_source_type) : "";
      const bad = i.failures && i.failures.length ? " — problems: " + i.failures.join(", ") : "";
      return el(
        "li",
        {},
        (i.title || "(untitled)") + " (" + i.relationship + ", " + who + kind + ")" + bad,
        ingredientTree(i.ingredients),
      );
    }),
  );
}

function manifestSection(check, verify, thumbUrl) {
  const m = check.manifest;
  const box = el("section", { class: "manifest" }, el("h3", {}, "Content Credentials (C2PA manifest)"));
  if (m.status !== "ok") {
    box.append(el("p", { class: "missing" }, m.reason || m.error));
    return box;
  }
  if (!m.present) {
    box.append(el("p", {}, "No manifest in this file. Its absence proves nothing: most sites strip them."));
    return box;
  }
  const state = !m.valid ? "INVALID: does not match this file" : m.trusted ? "valid, trusted signer" : "valid, signer not in the trust list";
  const full = verify && verify.manifest ? verify.manifest : null;
  const signer = full && full.signer ? full.signer : null;
  box.append(
    facts([
      ["State", state],
      ["Signed by", m.signer],
      ["Issued by", signer ? signer.issuer : null],
      ["AI label", m.digital_source_type ? sourceTypeName(m.digital_source_type) : "not declared"],
      ["Tool", m.claim_generator],
      ["Title", full ? full.title : null],
      ["Author", full ? full.author : null],
      ["GB 45438 label", full && full.gb45438 ? "present" : null],
      ["Watermark declared", m.watermark_payload],
    ]),
  );
  if (m.failures && m.failures.length) {
    box.append(el("p", { class: "error" }, "Why it fails: " + m.failures.join("; ")));
  }
  if (thumbUrl) {
    box.append(el("p", {}, "Thumbnail the signer recorded:"), el("img", { class: "thumb", src: thumbUrl, alt: "thumbnail stored in the manifest" }));
  }
  if (full && full.actions && full.actions.length) {
    box.append(
      el("h3", {}, "Actions"),
      el(
        "ul",
        {},
        full.actions.map((a) =>
          el("li", {}, [a.action, a.digital_source_type ? " (" + sourceTypeName(a.digital_source_type) + ")" : "", a.software_agent ? " by " + a.software_agent : "", a.when ? ", " + a.when : ""].join("")),
        ),
      ),
    );
  }
  const tree = full ? ingredientTree(full.ingredients) : null;
  if (tree) box.append(el("h3", {}, "Made from (ingredient chain)"), tree);
  return box;
}

function watermarkSection(check) {
  const box = el("section", {}, el("h3", {}, "Watermarks"));
  const w = check.watermark;
  if (w.status !== "ok") box.append(el("p", { class: "missing" }, "hallmark watermark: " + (w.reason || w.error)));
  else if (w.detected) box.append(el("p", {}, "hallmark watermark found, payload " + w.payload + " (false-positive probability " + Number(w.p_value).toExponential(1) + ")."));
  else box.append(el("p", {}, "No hallmark watermark."));
  const d = check.dwtdct;
  if (d.status === "ok" && d.detected) box.append(el("p", {}, "Stable Diffusion invisible watermark found (" + (d.generator || "unknown generator") + ")."));
  const r = check.recovered || check.credentials;
  if (r) box.append(el("h3", {}, "Recovered credentials"), el("pre", {}, JSON.stringify(r, null, 2)));
  return box;
}

function metadataSection(check) {
  const m = check.metadata;
  const box = el("section", {}, el("h3", {}, "Metadata traces (unverified: anyone can write them)"));
  if (m.status !== "ok") return box.append(el("p", { class: "missing" }, m.reason || m.error)), box;
  if (!m.findings.length) return box.append(el("p", {}, "None.")), box;
  box.append(
    el(
      "table",
      {},
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "field"), el("th", { scope: "col" }, "value"), el("th", { scope: "col" }, "suggests"))),
      el("tbody", {}, m.findings.map((f) => el("tr", {}, el("td", {}, f.field), el("td", {}, f.value), el("td", {}, f.indicates)))),
    ),
  );
  return box;
}

function classifierSection(check) {
  const c = check.classifier;
  const box = el("section", {}, el("h3", {}, "Classifier"));
  if (c.status === "ok") {
    box.append(el("p", {}, "Probability AI-generated " + Number(c.score).toFixed(2) + ", label " + c.label + (c.model ? " (" + c.model + ")" : "") + "."));
  } else {
    box.append(el("p", { class: "missing" }, c.reason || c.error));
  }
  box.append(el("p", { class: "caveat" }, CAVEAT));
  return box;
}

function missingSection(check) {
  const rows = ["manifest", "watermark", "dwtdct", "metadata", "classifier"]
    .map((k) => [k, check[k]])
    .filter(([, s]) => s && s.status !== "ok");
  if (!rows.length) return null;
  return el(
    "section",
    {},
    el("h3", {}, "Could not be checked"),
    el("ul", {}, rows.map(([k, s]) => el("li", {}, k + ": " + (s.reason || s.error)))),
  );
}

function downloadButton(name, report) {
  const b = el("button", { type: "button", class: "download" }, "Download JSON report");
  b.addEventListener("click", () => {
    const blob = new Blob([JSON.stringify(report, null, 2) + "\n"], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: name.replace(/[^\w.-]+/g, "_") + ".hallmark.json" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  return b;
}

function renderReport(card, file, check, verify, thumbUrl) {
  const [label, tone] = VERDICTS[check.verdict] || [check.verdict, "none"];
  card.className = "card tone-" + tone;
  card.dataset.verdict = check.verdict;
  const text = card.querySelector(".text");
  text.append(
    el("span", { class: "verdict-label" }, label),
    el("p", { class: "verdict" }, check.summary),
    el("p", { class: "hint" }, check.media.format + ", " + check.media.width + "×" + check.media.height + ", " + check.media.bytes + " bytes"),
  );
  card.append(el("h3", {}, "Evidence, strongest first"), evidenceList(check.evidence));
  if (check.conflicts && check.conflicts.length) {
    card.append(el("h3", {}, "Conflicts"), el("ul", { class: "conflicts" }, check.conflicts.map((c) => el("li", {}, c))));
  }
  const more = el("details", { open: true }, el("summary", {}, "Details"));
  more.append(manifestSection(check, verify, thumbUrl), watermarkSection(check), metadataSection(check), classifierSection(check));
  const missing = missingSection(check);
  if (missing) more.append(missing);
  more.append(el("p", { class: "hint" }, "SHA-256 " + check.media.sha256));
  card.append(more, downloadButton(file.name, check));
}

function renderError(card, answer) {
  card.className = "card tone-warn";
  card.dataset.verdict = "error";
  const b = answer.body || {};
  card.querySelector(".text").append(
    el("span", { class: "verdict-label" }, "Not checked"),
    el("p", { class: "verdict error" }, b.error || "HTTP " + answer.status),
    el("p", { class: "hint" }, "kind: " + (b.kind || "unknown") + " (HTTP " + answer.status + ")"),
  );
}

async function checkFile(file) {
  const preview = URL.createObjectURL(file);
  const card = el(
    "article",
    { class: "card", "aria-busy": "true", "data-file": file.name },
    el("div", { class: "top" }, el("img", { class: "preview", src: preview, alt: "your file " + file.name }), el("div", { class: "text" }, el("h2", {}, file.name))),
  );
  document.getElementById("results").prepend(card);
  try {
    const check = await postJson("/v1/check", file);
    if (!check.ok) {
      renderError(card, check);
      return;
    }
    let verify = null;
    let thumbUrl = null;
    if (check.body.manifest && check.body.manifest.present) {
      const v = await postJson("/v1/verify", file);
      if (v.ok) verify = v.body;
      const t = await post("/v1/manifest/thumbnail", file);
      if (t.ok) thumbUrl = URL.createObjectURL(await t.blob());
    }
    renderReport(card, file, check.body, verify, thumbUrl);
  } catch (e) {
    renderError(card, { status: 0, body: { error: "the server could not be reached: " + e.message, kind: "network" } });
  } finally {
    card.setAttribute("aria-busy", "false");
  }
}

async function checkAll(files) {
  const list = Array.from(files || []);
  const status = document.getElementById("status");
  for (let i = 0; i < list.length; i++) {
    status.textContent = "Checking " + list[i].name + " (" + (i + 1) + " of " + list.length + ")…";
    await checkFile(list[i]);
  }
  status.textContent = list.length ? "Done: " + list.length + (list.length === 1 ? " image" : " images") + " checked." : "";
}

document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("files");
  const drop = document.getElementById("drop");
  input.addEventListener("change", async () => {
    await checkAll(input.files);
    input.value = "";
  });
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const ev of ["dragleave", "drop"]) {
    drop.addEventListener(ev, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    checkAll(e.dataTransfer.files);
  });
});
