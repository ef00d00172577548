/* Shared by the vpcaudit HTML report and path answer. Data arrives as JSON in
   <script type="application/json" id="vpcaudit-data">; every string from it reaches the page
   through textContent (never innerHTML), so nothing in an AWS name can become markup. */
"use strict";

var vpcaudit = window.vpcaudit = window.vpcaudit || {};

vpcaudit.data = function () {
  return JSON.parse(document.getElementById("vpcaudit-data").textContent);
};

vpcaudit.el = function (tag, className, text) {
  var e = document.createElement(tag);
  if (className) { e.className = className; }
  if (text !== undefined && text !== null) { e.textContent = String(text); }
  return e;
};

vpcaudit.SEVERITY_COLOURS = {
  critical: "#7f1d1d", high: "#dc2626", medium: "#ea580c", low: "#ca8a04", info: "#64748b"
};

/* Copy buttons: the Clipboard API where the browser allows it (file:// pages may not get it),
   else select the command so Ctrl+C finishes the job. */
vpcaudit.initCopyButtons = function (root) {
  root.addEventListener("click", function (ev) {
    var button = ev.target.closest("button.copy");
    if (!button) { return; }
    ev.stopPropagation();
    var code = button.parentNode.querySelector("pre code");
    var text = code.textContent;
    function done(label) {
      button.textContent = label;
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    }
    function fallback() {
      var range = document.createRange();
      range.selectNodeContents(code);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok ? "Copied" : "Press Ctrl+C");
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done("Copied"); }, fallback);
    } else {
      fallback();
    }
  });
};

/* The cytoscape style both pages use: VPCs, endpoints, Transit Gateways, groups, link states. */
vpcaudit.graphStyle = function () {
  var sev = vpcaudit.SEVERITY_COLOURS;
  var style = [
    { selector: "node", style: {
      "label": "data(label)", "text-wrap": "wrap", "text-max-width": "200px", "font-size": 15,
      "font-family": "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif",
      "color": "#1f2937", "text-valign": "center", "text-halign": "center",
      "background-color": "#e0ecff", "border-width": 1.5, "border-color": "#3b82f6",
      "shape": "round-rectangle", "width": "label", "height": "label", "padding": "8px",
      "min-zoomed-font-size": 6 } },
    { selector: "node[kind = 'account']", style: {
      "background-color": "#f8fafc", "background-opacity": 1, "border-color": "#94a3b8",
      "border-width": 1.5, "text-valign": "top", "text-halign": "center", "font-size": 20,
      "font-weight": 700, "color": "#0f172a", "padding": "18px", "text-margin-y": -4,
      "shape": "round-rectangle" } },
    { selector: "node[kind = 'region']", style: {
      "background-color": "#ffffff", "border-color": "#cbd5e1", "border-style": "dashed",
      "text-valign": "top", "font-size": 16, "font-weight": 600, "color": "#475569",
      "padding": "14px", "text-margin-y": -2 } },
    { selector: "node[kind = 'region'].collapsed", style: {
      "background-color": "#f1f5f9", "border-style": "solid", "text-valign": "center",
      "width": "label", "height": "label", "padding": "12px" } },
    { selector: "node[kind = 'vpc']:parent", style: {
      "text-valign": "top", "background-color": "#eef4ff", "padding": "10px" } },
    { selector: "node[kind = 'vpc'][?scanned]", style: {} },
    { selector: "node[kind = 'vpc'][!scanned]", style: {
      "background-color": "#f3f4f6", "border-color": "#9ca3af", "border-style": "dashed",
      "color": "#6b7280" } },
    { selector: "node[kind = 'endpoint']", style: {
      "shape": "round-tag", "font-size": 10, "background-color": "#ecfeff",
      "border-color": "#0891b2", "padding": "5px" } },
    { selector: "node[endpoint_type = 'gateway']", style: {
      "background-color": "#f0fdf4", "border-color": "#16a34a", "shape": "round-rectangle" } },
    { selector: "node[kind = 'tgw']", style: {
      "shape": "round-hexagon", "background-color": "#ccfbf1", "border-color": "#0f766e",
      "border-width": 2, "font-weight": 600, "padding": "14px" } },
    { selector: "node[kind = 'external'], node[kind = 'endpoint-of-path']", style: {
      "shape": "round-rectangle", "background-color": "#f5f5f4", "border-color": "#78716c" } },
    { selector: "edge", style: {
      "width": 2, "line-color": "#94a3b8", "curve-style": "bezier", "label": "data(label)",
      "font-size": 10, "color": "#334155", "text-rotation": "autorotate",
      "text-background-color": "#ffffff", "text-background-opacity": 0.85,
      "text-background-padding": "1px", "min-zoomed-font-size": 9,
      "target-arrow-shape": "none" } },
    { selector: "edge[kind = 'attachment']", style: { "line-color": "#0e7490", "width": 2.5 } },
    { selector: "edge[state = 'one-way']", style: {
      "line-color": sev.high, "width": 3.5, "target-arrow-shape": "triangle",
      "target-arrow-color": sev.high } },
    { selector: "edge[state = 'pending']", style: {
      "line-color": sev.medium, "line-style": "dashed", "width": 3 } },
    { selector: "edge[state = 'blackhole']", style: {
      "line-color": "#111827", "line-style": "dotted", "width": 3.5 } },
    { selector: "edge[state = 'broken'], edge[state = 'deleted'], edge[state = 'failed'], edge[state = 'rejected'], edge[state = 'expired']", style: {
      "line-color": "#7c3aed", "width": 3 } },
    { selector: "edge[state = 'unverifiable']", style: {
      "line-color": "#9ca3af", "line-style": "dashed" } },
    { selector: ".faded", style: { "opacity": 0.25 } },
    { selector: ":selected", style: {
      "overlay-color": "#2563eb", "overlay-opacity": 0.18, "overlay-padding": 6 } }
  ];
  ["info", "low", "medium", "high", "critical"].forEach(function (s) {
    style.push({ selector: "node[severity = '" + s + "']", style: {
      "border-color": sev[s], "border-width": 4 } });
    style.push({ selector: "edge[severity = '" + s + "'][state = 'ok']", style: {
      "line-color": sev[s], "width": 3.5 } });
  });
  return style;
};
