// KPI trend charts (issue 3 item 5). The data comes from the page's <script type="application/json"
// id="kpi-trend"> (Django's json_script); no inline scripts, as the Content-Security-Policy requires.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("kpi-trend");
    if (!source || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var colours = ["#1f4e79", "#e07b39", "#3a9d5d", "#8c6bb1"];
    var charts = [];
    data.charts.forEach(function (spec) {
      var el = document.getElementById(spec.id);
      if (!el) {
        return;
      }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      var yAxis = { type: "value", min: 0, axisLabel: { formatter: "{value}" + (spec.unit === "%" ? "%" : "") } };
      if (spec.max) {
        yAxis.max = spec.max;
      }
      if (spec.dual) {
        // Two scales (e.g. minutes to first reply and to resolution): the second series on the right.
        yAxis = [yAxis, { type: "value", min: 0, splitLine: { show: false } }];
      }
      chart.setOption({
        color: colours,
        animation: false,
        grid: { left: 44, right: spec.dual ? 44 : 12, top: 36, bottom: 28 },
        tooltip: { trigger: "axis" },
        legend: { top: 0, type: "scroll" },
        xAxis: { type: "category", data: data.labels, axisLabel: { hideOverlap: true } },
        yAxis: yAxis,
        series: spec.series.map(function (s, i) {
          return {
            name: s.name, type: s.type, data: s.data, connectNulls: false, showSymbol: true,
            yAxisIndex: spec.dual ? Math.min(i, 1) : 0
          };
        })
      });
      el.dataset.rendered = "1";
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
