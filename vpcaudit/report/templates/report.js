/* The report page: finding filters and search, expandable details, the topology picture. */
"use strict";

(function () {
  var data = vpcaudit.data();
  var el = vpcaudit.el;
  var table = document.getElementById("findings-table");
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody.finding"));
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
  var byFingerprint = {};
  rows.forEach(function (r) { byFingerprint[r.id.slice(2)] = r; });

  /* ---- findings: filters, search, details ---- */
  var controls = {
    severities: Array.prototype.slice.call(document.querySelectorAll("input[name=severity]")),
    rule: document.getElementById("filter-rule"),
    account: document.getElementById("filter-account"),
    region: document.getElementById("filter-region"),
    search: document.getElementById("filter-search"),
    waived: document.getElementById("filter-waived"),
    count: document.getElementById("filter-count")
  };

  function applyFilters() {
    var sevs = {};
    controls.severities.forEach(function (c) { sevs[c.value] = c.checked; });
    var q = controls.search.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r, i) {
      var d = r.dataset;
      var ok = sevs[d.severity] &&
        (!controls.rule.value || d.rule === controls.rule.value) &&
        (!controls.account.value || d.account === controls.account.value) &&
        (!controls.region.value || d.region === controls.region.value) &&
        (controls.waived.checked || d.waived === "false") &&
        (!q || texts[i].indexOf(q) !== -1);
      r.hidden = !ok;
      if (ok) { shown += 1; }
    });
    document.getElementById("findings-empty").hidden = shown !== 0;
    controls.count.textContent = "Showing " + shown + " of " + rows.length + " findings";
  }

  function resetFilters() {
    controls.severities.forEach(function (c) { c.checked = true; });
    controls.rule.value = controls.account.value = controls.region.value = "";
    controls.search.value = "";
  }

  function toggle(row, open) {
    var detail = row.parentNode.querySelector("tr.detail");
    var want = open === undefined ? detail.hidden : open;
    detail.hidden = !want;
    row.setAttribute("aria-expanded", want ? "true" : "false");
  }

  function reveal(fingerprint) {
    var body = byFingerprint[fingerprint];
    if (!body) { return; }
    if (body.hidden) {
      resetFilters();
      if (body.dataset.waived === "true") { controls.waived.checked = true; }
      applyFilters();
    }
    toggle(body.querySelector("tr.row"), true);
    body.classList.remove("flash");
    void body.offsetWidth;  // restart the highlight animation
    body.classList.add("flash");
    body.scrollIntoView({ behavior: "smooth", block: "center" });
  }

  controls.severities.concat([controls.rule, controls.account, controls.region, controls.waived])
    .forEach(function (c) { c.addEventListener("change", applyFilters); });
  controls.search.addEventListener("input", applyFilters);
  table.addEventListener("click", function (ev) {
    var row = ev.target.closest("tr.row");
    if (row && !window.getSelection().toString()) { toggle(row); }
  });
  table.addEventListener("keydown", function (ev) {
    var row = ev.target.closest("tr.row");
    if (row && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); toggle(row); }
  });
  document.querySelectorAll("[data-only-severity]").forEach(function (b) {
    b.addEventListener("click", function () {
      resetFilters();
      controls.severities.forEach(function (c) { c.checked = c.value === b.dataset.onlySeverity; });
      applyFilters();
      document.getElementById("findings").scrollIntoView({ behavior: "smooth" });
    });
  });
  [["onlyRule", controls.rule], ["onlyAccount", controls.account]].forEach(function (pair) {
    var attr = pair[0].replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); });
    document.querySelectorAll("[data-" + attr + "]").forEach(function (a) {
      a.addEventListener("click", function () {
        resetFilters();
        pair[1].value = a.dataset[pair[0]];
        applyFilters();
      });
    });
  });
  vpcaudit.initCopyButtons(document.body);
  applyFilters();
  vpcaudit.reveal = reveal;

  /* ---- topology ---- */
  var graph = data.graph;
  var container = document.getElementById("graph");
  if (!graph.nodes.length) {
    container.appendChild(el("p", "hint", "Nothing to draw: no VPC was read."));
    return;
  }
  var cy = cytoscape({
    container: container,
    elements: {
      nodes: graph.nodes.map(function (n) { return { data: n }; }),
      edges: graph.edges.map(function (e) { return { data: e }; })
    },
    style: vpcaudit.graphStyle(),
    wheelSensitivity: 0.3,
    minZoom: 0.05,
    maxZoom: 3
  });
  window.vpcauditGraph = cy;  // for the browser test and for a curious reviewer's console

  var collapsed = {};
  // A big picture opens on what is wrong; the checkbox brings the rest back.
  var problemsOnly = graph.nodes.filter(function (n) { return n.kind === "vpc"; }).length > 40;
  document.getElementById("graph-problems").checked = problemsOnly;
  graph.groups.forEach(function (g) { if (g.collapsed) { collapsed[g.id] = true; } });

  function isProblem(ele) {
    return Boolean(ele.data("severity")) || (ele.isEdge() && ele.data("state") !== "ok");
  }

  function applyVisibility() {
    var keep = cy.collection();
    if (problemsOnly) {
      var hits = cy.elements().filter(isProblem);
      keep = hits.union(hits.connectedNodes()).union(hits.edges().connectedNodes());
      keep = keep.union(keep.ancestors());
    }
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        var hidden = n.ancestors().some(function (a) { return collapsed[a.id()]; });
        if (problemsOnly && !keep.has(n)) { hidden = true; }
        n.style("display", hidden ? "none" : "element");
        var isCollapsed = n.data("kind") === "region" && collapsed[n.id()];
        n.toggleClass("collapsed", Boolean(isCollapsed));
      });
      cy.edges().forEach(function (e) {
        e.style("display", problemsOnly && !isProblem(e) ? "none" : "element");
      });
    });
    cy.nodes("[kind = 'region']").forEach(function (r) {
      var base = r.data("region_label") || r.data("label");
      r.data("region_label", base);
      var g = groupInfo[r.id()];
      r.data("label", collapsed[r.id()] ? base + " (" + g.vpcs + " VPCs, collapsed)" : base);
    });
    layout();
  }

  /* fcose (a cytoscape.js layout built for compound graphs) places each account and region
     as a box and the VPCs inside it; a fixed random seed is not offered, so positions are
     seeded from a grid in id order to keep the picture the same on every open. */
  function layout() {
    var visible = cy.elements().filter(function (e) { return e.style("display") !== "none"; });
    var leaves = visible.nodes().filter(function (n) { return n.isChildless(); });
    var side = Math.ceil(Math.sqrt(leaves.length)) || 1;
    leaves.forEach(function (n, i) {
      n.position({ x: (i % side) * 160, y: Math.floor(i / side) * 110 });
    });
    visible.layout({
      name: "fcose", quality: "proof", randomize: false, animate: false, fit: true,
      padding: 24, nodeDimensionsIncludeLabels: true, idealEdgeLength: 90,
      nodeRepulsion: 6000, nestingFactor: 0.4, gravity: 0.4, gravityCompound: 2,
      tilingPaddingVertical: 16, tilingPaddingHorizontal: 16
    }).run();
  }

  /* the account / region list: collapse and expand */
  var groupInfo = {};
  graph.groups.forEach(function (g) { groupInfo[g.id] = g; });
  var groupsBox = document.getElementById("graph-groups");
  graph.groups.filter(function (g) { return g.kind === "account"; }).forEach(function (acct) {
    groupsBox.appendChild(el("div", "acct", acct.label));
    graph.groups.filter(function (g) { return g.parent === acct.id; }).forEach(function (g) {
      var label = el("label");
      var box = el("input");
      box.type = "checkbox";
      box.checked = !collapsed[g.id];
      box.addEventListener("change", function () {
        if (box.checked) { delete collapsed[g.id]; } else { collapsed[g.id] = true; }
        applyVisibility();
      });
      box.dataset.group = g.id;
      label.appendChild(box);
      label.appendChild(el("span", "", g.label));
      var cnt = el("span", "cnt", g.vpcs + " VPC" + (g.vpcs === 1 ? "" : "s"));
      if (g.problems) { cnt.appendChild(el("span", "prob", " · " + g.problems + " issue" + (g.problems === 1 ? "" : "s"))); }
      label.appendChild(cnt);
      groupsBox.appendChild(label);
    });
  });
  function setAll(open) {
    groupsBox.querySelectorAll("input[type=checkbox]").forEach(function (b) {
      b.checked = open;
      if (open) { delete collapsed[b.dataset.group]; } else { collapsed[b.dataset.group] = true; }
    });
    applyVisibility();
  }
  document.getElementById("graph-expand").addEventListener("click", function () { setAll(true); });
  document.getElementById("graph-collapse").addEventListener("click", function () { setAll(false); });
  document.getElementById("graph-fit").addEventListener("click", function () { cy.fit(undefined, 24); });
  document.getElementById("graph-problems").addEventListener("change", function (ev) {
    problemsOnly = ev.target.checked;
    applyVisibility();
  });

  /* clicking an element: what it is and its findings, a click from the table row */
  var info = document.getElementById("graph-info");
  function showInfo(ele) {
    var d = ele.data();
    info.textContent = "";
    if (d.kind === "region" && collapsed[d.id]) {
      delete collapsed[d.id];
      groupsBox.querySelectorAll("input[type=checkbox]").forEach(function (b) {
        if (b.dataset.group === d.id) { b.checked = true; }
      });
      applyVisibility();
      return;
    }
    info.appendChild(el("h4", "", d.kind === "tgw" ? "Transit Gateway" : d.kind));
    info.appendChild(el("div", "title", d.id));
    var facts = el("dl", "kv");
    function fact(k, v) {
      if (v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length)) { return; }
      facts.appendChild(el("dt", "", k));
      facts.appendChild(el("dd", "", Array.isArray(v) ? v.join(", ") : v));
    }
    fact("name", d.name);
    fact("CIDRs", d.cidrs);
    fact("service", d.service);
    fact("state", d.status || d.state);
    fact("account", d.account);
    fact("region", d.region);
    if (d.scanned === false) { fact("note", "not scanned: only known from the other side"); }
    if (ele.isEdge()) { fact("between", d.source + " and " + d.target); }
    info.appendChild(facts);
    var list = d.findings || [];
    info.appendChild(el("h4", "", list.length ? list.length + " finding(s)" : "No findings"));
    var ul = el("ul");
    list.forEach(function (fp) {
      var f = data.findings[fp];
      if (!f) { return; }
      var li = el("li");
      li.appendChild(el("span", "sev sev-" + f.severity, f.severity));
      li.appendChild(document.createTextNode(" "));
      var a = el("a", "", f.message);
      a.href = "#findings";
      a.addEventListener("click", function (ev) { ev.preventDefault(); reveal(fp); });
      li.appendChild(a);
      ul.appendChild(li);
    });
    info.appendChild(ul);
  }
  cy.on("tap", "node, edge", function (ev) { showInfo(ev.target); });
  applyVisibility();
})();
