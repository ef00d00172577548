/* The path answer: draw the hops left to right. */
"use strict";

(function () {
  var graph = vpcaudit.data().graph;
  vpcaudit.initCopyButtons(document.body);
  var cy = cytoscape({
    container: document.getElementById("path-graph"),
    elements: {
      nodes: graph.nodes.map(function (n) { return { data: n }; }),
      edges: graph.edges.map(function (e) { return { data: e }; })
    },
    style: vpcaudit.graphStyle().concat([
      { selector: "edge", style: { "target-arrow-shape": "triangle", "target-arrow-color": "#94a3b8", "min-zoomed-font-size": 0 } }
    ]),
    layout: { name: "breadthfirst", directed: true, spacingFactor: 1.1, padding: 20,
      roots: graph.nodes.length ? [graph.nodes[0].id] : undefined, nodeDimensionsIncludeLabels: true },
    wheelSensitivity: 0.3
  });
  window.vpcauditGraph = cy;
})();
