// Grade distribution on the annual calibration board (issue 5 item 4, policy E2.3): people per grade,
// proposed and final, with the excellent cap and the fail floor marked. The data comes from the page's
// <script type="application/json" id="annual-distribution"> (json_script); no inline scripts (CSP).
// The table under the chart holds the same numbers for screen readers and for browsers without scripts.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("annual-distribution");
    var el = document.getElementById("chart-annual-distribution");
    if (!source || !el || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var colours = { proposed: "#adb5bd", final: "#1f4e79", cap: "#3a9d5d", floor: "#c0392b" };
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    var bars = data.series.map(function (s) {
      return { name: s.name, type: "bar", data: s.data, barGap: "10%", itemStyle: { color: colours[s.key] },
               label: { show: true, position: "top" } };
    });
    // A quota is a thick line across its grade's two bars, labelled "≤ 3" / "≥ 1" at its right end.
    var grid = { left: 40, right: 24, top: 28, bottom: 56 };
    function markWidth() {
      var band = (chart.getWidth() - grid.left - grid.right) / Math.max(1, data.labels.length);
      return Math.max(24, Math.round(band * 0.8));
    }
    function marks() {
      var width = markWidth();
      return data.marks.map(function (m) {
        return {
          name: m.name, type: "scatter", data: m.data, symbol: "rect", symbolSize: [width, 4], z: 5,
          itemStyle: { color: colours[m.key] }, tooltip: { show: false },
          label: {
            show: true, position: "right", distance: 4, fontWeight: "bold",
            color: colours[m.key], formatter: function (p) { return p.value === null ? "" : m.short; }
          }
        };
      });
    }
    chart.setOption({
      animation: false,
      grid: grid,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, type: "scroll" },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", minInterval: 1, name: data.y_name },
      series: bars.concat(marks())
    });
    el.dataset.rendered = "1";
    window.addEventListener("resize", function () {
      chart.resize();
      chart.setOption({ series: bars.concat(marks()) });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
