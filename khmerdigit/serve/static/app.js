// The khmerdigit page: a writing pad (pointer events, pressure where the device has it) or a photo,
// sent to /v1/predict (one digit) or /v1/read (a number); the result is shown as text, a table and boxes.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const pad = $("pad");
  const ink = pad.getContext("2d");
  const SIZES = { digit: [400, 400], number: [1000, 400] };  // pad pixels; the server shrinks to 512 a side
  const PHOTO_SIDE = 1024;  // photos are shrunk to this before upload: the server reads at most 512
  const KEY_STORE = "khmerdigit-api-key";

  let mode = "digit";
  let strokes = [];  // each stroke: [[x, y, pressure], ...] in pad pixels
  let current = null;
  let apiKey = sessionStorage.getItem(KEY_STORE) || "";
  let shown = { khmer: "", arabic: "" };

  // ---- the writing pad ----
  const penWidth = (pressure) => pad.height * 0.05 * (0.6 + 0.8 * pressure);

  function drawStroke(points, from = 1) {
    ink.strokeStyle = ink.fillStyle = "#111";
    ink.lineCap = ink.lineJoin = "round";
    if (points.length === 1) {
      const [x, y, p] = points[0];
      ink.beginPath();
      ink.arc(x, y, penWidth(p) / 2, 0, 2 * Math.PI);
      ink.fill();
    }
    for (let i = Math.max(1, from); i < points.length; i++) {
      const [x0, y0, p0] = points[i - 1];
      const [x1, y1, p1] = points[i];
      ink.lineWidth = penWidth((p0 + p1) / 2);
      ink.beginPath();
      ink.moveTo(x0, y0);
      ink.lineTo(x1, y1);
      ink.stroke();
    }
  }

  function repaint() {
    ink.fillStyle = "#fff";
    ink.fillRect(0, 0, pad.width, pad.height);
    strokes.forEach((points) => drawStroke(points));
  }

  function padPoint(event) {
    const box = pad.getBoundingClientRect();
    const x = (event.clientX - box.left - pad.clientLeft) * pad.width / pad.clientWidth;
    const y = (event.clientY - box.top - pad.clientTop) * pad.height / pad.clientHeight;
    return [x, y, event.pressure > 0 ? event.pressure : 0.5];
  }

  pad.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    current = [padPoint(event)];
    strokes.push(current);
    drawStroke(current);
  });
  pad.addEventListener("pointermove", (event) => {
    if (!current) return;
    const coalesced = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    const events = coalesced.length ? coalesced : [event];
    events.forEach((e) => current.push(padPoint(e)));
    drawStroke(current, current.length - events.length);
  });
  for (const type of ["pointerup", "pointercancel"]) pad.addEventListener(type, () => { current = null; });

  function setMode(value) {
    mode = value;
    [pad.width, pad.height] = SIZES[mode];
    pad.classList.toggle("wide", mode === "number");
    repaint();  // strokes stay: both pads are as high
  }

  function undo() {
    strokes.pop();
    repaint();
  }

  document.querySelectorAll('input[name="mode"]').forEach((radio) =>
    radio.addEventListener("change", () => setMode(radio.value)));
  $("undo").addEventListener("click", undo);
  $("clear").addEventListener("click", () => { strokes = []; repaint(); });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "z" && event.target.tagName !== "INPUT") {
      event.preventDefault();
      undo();
    }
  });

  // ---- talking to the server ----
  function say(text, isError = false) {
    $("status").textContent = text;
    $("status").classList.toggle("error", isError);
  }

  function askForKey(message) {
    $("key-row").hidden = false;
    $("api-key").focus();
    say(`${message}. Enter the server's API key, then try again.`, true);
  }

  $("api-key").value = apiKey;
  $("api-key").addEventListener("change", (event) => {
    apiKey = event.target.value.trim();
    sessionStorage.setItem(KEY_STORE, apiKey);
    loadModelInfo();
  });

  const headers = () => (apiKey ? { "X-API-Key": apiKey } : {});

  async function loadModelInfo() {
    try {
      const response = await fetch("v1/model", { headers: headers() });
      if (response.status === 401) return askForKey((await response.json()).error);
      if (!response.ok) return;
      const info = await response.json();
      $("version").textContent = `khmerdigit ${info.version}`;
    } catch (error) {
      say("Cannot reach the server.", true);
    }
  }

  // Sends the image that `image` (a promise of a Blob) gives; the page shows it is busy from the first moment.
  async function send(image, name) {
    const url = mode === "digit" ? "v1/predict?top_k=3" : "v1/read";
    $("answer").hidden = true;
    $("read").disabled = true;
    $("result").setAttribute("aria-busy", "true");
    say("Reading…");
    try {
      const blob = await image;
      const form = new FormData();
      form.append("file", blob, name);
      const response = await fetch(url, { method: "POST", body: form, headers: headers() });
      const body = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
      if (response.status === 401) return askForKey(body.error);
      if (!response.ok) return say(`Could not read it: ${body.error}.`, true);
      const result = body.results[0];
      if (result.error) return say(`Could not read it: ${result.error}.`, true);
      await show(result, blob);
    } catch (error) {
      say("Cannot reach the server.", true);
    } finally {
      $("read").disabled = false;
      $("result").setAttribute("aria-busy", "false");
    }
  }

  $("read").addEventListener("click", () => {
    if (!strokes.length) return say("Write something on the pad first.", true);
    send(new Promise((resolve) => pad.toBlob(resolve, "image/png")), `drawing-${mode}.png`);
  });

  // A big photo shrunk to PHOTO_SIDE (PNG stays PNG, to keep transparency); anything else as it is.
  async function shrunk(file) {
    try {
      const bitmap = await createImageBitmap(file);  // upright, as its EXIF says
      const scale = PHOTO_SIDE / Math.max(bitmap.width, bitmap.height);
      if (scale >= 1) return file;
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const type = file.type === "image/png" ? "image/png" : "image/jpeg";
      return await new Promise((resolve) => canvas.toBlob(resolve, type, 0.92));
    } catch (error) {
      return file;  // a format this browser cannot decode: let the server try
    }
  }

  for (const id of ["camera", "upload"]) {
    $(id).addEventListener("change", (event) => {
      const file = event.target.files[0];
      event.target.value = "";  // choosing the same file again reads it again
      if (file) send(shrunk(file), file.name);
    });
  }

  // ---- the result ----
  function row(cells, uncertain) {
    const tr = document.createElement("tr");
    tr.classList.toggle("uncertain", uncertain);
    cells.forEach(([text, className]) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (className) td.className = className;
      tr.appendChild(td);
    });
    return tr;
  }

  function confidenceCell(td, confidence, uncertain) {
    td.textContent = "";
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.max(2, Math.round(confidence * 80))}px`;
    td.append(bar, `${(confidence * 100).toFixed(1)}%`);
    if (uncertain) {
      const flag = document.createElement("span");
      flag.className = "flag";
      flag.textContent = "uncertain";
      td.appendChild(flag);
    }
  }

  async function drawOverlay(blob, digits, imageSize) {
    const overlay = $("overlay");
    try {
      const bitmap = await createImageBitmap(blob);
      overlay.width = bitmap.width;
      overlay.height = bitmap.height;
      const g = overlay.getContext("2d");
      g.drawImage(bitmap, 0, 0);
      const scale = imageSize ? bitmap.width / imageSize[0] : 1;
      g.lineWidth = Math.max(2, bitmap.width / 250);
      g.font = `${Math.max(14, bitmap.height / 12)}px system-ui, sans-serif`;
      digits.forEach((digit, index) => {
        const { x, y, width, height } = digit.box;
        g.strokeStyle = g.fillStyle = digit.uncertain ? "#b3261e" : "#17803d";
        g.strokeRect(x * scale, y * scale, width * scale, height * scale);
        g.fillText(String(index + 1), x * scale + 3, Math.max(y * scale - 4, 14));
      });
      overlay.hidden = false;
    } catch (error) {
      overlay.hidden = true;
    }
  }

  async function show(result, blob) {
    const isNumber = Array.isArray(result.digits);
    const digits = isNumber
      ? result.digits
      : (result.top || [result]).map((d, i) => ({ ...d, uncertain: i === 0 && result.uncertain }));
    const reading = isNumber ? digits : [digits[0]];
    shown = { khmer: reading.map((d) => d.glyph).join(""), arabic: reading.map((d) => d.digit).join("") };

    const khmer = $("khmer");
    khmer.textContent = "";
    reading.forEach((d) => {
      const span = document.createElement("span");
      span.textContent = d.glyph;
      if (d.uncertain) {
        span.className = "uncertain";
        span.title = "uncertain";
      }
      khmer.appendChild(span);
    });
    $("arabic").textContent = shown.arabic;
    const notes = [];
    if (reading.some((d) => d.uncertain)) notes.push("Digits in red are uncertain: check them.");
    if (result.warning) notes.push(result.warning);
    $("note").textContent = notes.join(" ");
    $("note").hidden = !notes.length;

    $("digits-caption").textContent = isNumber ? "Digits, left to right" : "Most likely digits";
    const body = $("digits").tBodies[0];
    body.textContent = "";
    digits.forEach((d, i) => {
      const tr = row([[String(i + 1)], [d.glyph, "glyph"], [String(d.digit)], [""]], d.uncertain);
      tr.cells[1].lang = "km";
      confidenceCell(tr.cells[3], d.confidence, d.uncertain);
      body.appendChild(tr);
    });
    await drawOverlay(blob, isNumber ? digits : [], result.image_size);
    $("answer").hidden = false;
    say(`Read ${shown.khmer} (${shown.arabic}).`);
  }

  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {  // no clipboard API outside secure contexts: the old way
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    say(`Copied ${text}.`);
  }

  $("copy-khmer").addEventListener("click", () => copy(shown.khmer));
  $("copy-arabic").addEventListener("click", () => copy(shown.arabic));

  setMode("digit");
  loadModelInfo();
})();
