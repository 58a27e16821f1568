// Score distribution on the monthly board (issue 4 item 6). The data comes from the page's
// <script type="application/json" id="monthly-distribution"> (json_script); no inline scripts (CSP).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("monthly-distribution");
    var el = document.getElementById("chart-distribution");
    if (!source || !el || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var colours = { final: "#3a9d5d", submitted: "#1f4e79", draft: "#adb5bd" };
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 12, top: 30, bottom: 64 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, type: "scroll" },
      xAxis: { type: "category", data: data.labels, name: data.x_name, nameLocation: "middle", nameGap: 26 },
      yAxis: { type: "value", minInterval: 1, name: data.y_name },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "total", data: s.data, itemStyle: { color: colours[s.key] } };
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
