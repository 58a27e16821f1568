// Rectifications by department on the rectification dashboard (issue 8 item 6). The data comes from
// the page's <script type="application/json" id="rectification-departments"> (json_script); no inline
// scripts (CSP).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("rectification-departments");
    var el = document.getElementById("chart-departments");
    if (!source || !el || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var colours = { in_hand: "#1f4e79", overdue: "#c0392b", submitted: "#5bc0de", closed: "#3a9d5d" };
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 12, top: 20, bottom: 64, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, type: "scroll" },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "total", barMaxWidth: 48, data: s.data, itemStyle: { color: colours[s.key] } };
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
