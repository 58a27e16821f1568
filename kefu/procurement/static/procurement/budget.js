// The budget chart of a purchase plan: budget, awarded and received value per line (ECharts).
// Data comes from the page's json_script element; no inline scripts (Content-Security-Policy).
(function () {
  function draw() {
    var holder = document.getElementById("budget-chart");
    var source = document.getElementById("budget-data");
    if (!holder || !source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(holder);
    var colours = ["#6c757d", "#0d6efd", "#198754"];
    chart.setOption({
      color: colours,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0, rotate: data.categories.length > 5 ? 30 : 0 } },
      yAxis: { type: "value", axisLabel: { formatter: "¥{value}" } },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", data: s.data.map(function (v) { return v === null ? null : Number(v); }) };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
