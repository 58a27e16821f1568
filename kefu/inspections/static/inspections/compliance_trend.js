// Hits of the recent compliance runs on the compliance dashboard (issue 8 item 4), oldest first.
// The data comes from the page's <script type="application/json" id="compliance-trend"> (json_script);
// no inline scripts (CSP). The table under the chart holds the same numbers.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("compliance-trend");
    var el = document.getElementById("chart-compliance-trend");
    if (!source || !el || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: data.name, type: "line", data: data.totals, itemStyle: { color: "#c0392b" },
                 label: { show: true, position: "top" } }]
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
