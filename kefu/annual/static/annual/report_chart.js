// Year over year on the grade distribution report (issue 5 item 6): the share of each final grade per
// cycle, all departments the reader sees, as 100 % stacked bars. Data from the page's
// <script type="application/json" id="annual-yoy"> (json_script); the tables below hold the same numbers.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("annual-yoy");
    var el = document.getElementById("chart-annual-yoy");
    if (!source || !el || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var colours = { excellent: "#3a9d5d", good: "#1f4e79", pass: "#adb5bd", fail: "#c0392b" };
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 44, right: 16, top: 16, bottom: 56 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return v + " %"; } },
      legend: { bottom: 0, type: "scroll" },
      xAxis: { type: "category", data: data.years },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value} %" } },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "share", data: s.data, barMaxWidth: 60,
                 itemStyle: { color: colours[s.key] } };
      })
    });
    el.dataset.rendered = "1";
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
