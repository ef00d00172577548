/* The path answer: draw the hops left to right, row by row. */
"use strict";

(function () {
  var graph = vpcaudit.data().graph;
  vpcaudit.initCopyButtons(document.body);
  // Hops left to right, in rows that turn back like a snake: a long path stays readable
  // (one long row or column would be zoomed down until its labels vanish).
  var perRow = 5, dx = 260, dy = 130;
  var container = document.getElementById("path-graph");
  var rows = Math.max(1, Math.ceil(graph.nodes.length / perRow));
  container.style.height = (rows * dy + 60) + "px";
  var at = {};
  graph.nodes.forEach(function (n, i) {
    var row = Math.floor(i / perRow), col = i % perRow;
    if (row % 2 === 1) { col = perRow - 1 - col; }
    at[n.id] = { x: col * dx, y: row * dy };
  });
  var cy = cytoscape({
    container: container,
    elements: {
      nodes: graph.nodes.map(function (n) { return { data: n }; }),
      edges: graph.edges.map(function (e) { return { data: e }; })
    },
    style: vpcaudit.graphStyle().concat([
      { selector: "edge", style: { "target-arrow-shape": "triangle", "target-arrow-color": "#94a3b8", "min-zoomed-font-size": 0 } }
    ]),
    // A first layout that measures the labels ("width: label" nodes have no size until one
    // does; the preset layout below alone leaves them unsized, and so undrawn).
    layout: { name: "breadthfirst", nodeDimensionsIncludeLabels: true },
    wheelSensitivity: 0.3
  });
  cy.layout({ name: "preset", positions: function (node) { return at[node.id()]; },
    fit: true, padding: 40 }).run();
  if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
  window.vpcauditGraph = cy;
})();
