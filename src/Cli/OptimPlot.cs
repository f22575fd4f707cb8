// Draws optimizer paths over a log-loss heatmap of a 2-D test function (ScottPlot 5, PNG).
using ScottPlot;
using Tiny.Optim;

namespace Tiny.Cli;

internal static class OptimPlot
{
    public static void Save(string file, string function, List<(string Label, double[] X, double[] Y, double Loss)> paths, int width, int height)
    {
        // The view: every finite path point and the minimum, with a margin.
        var (mx, my) = TestFunctions.Minimum(function);
        var xs = paths.SelectMany(p => p.X).Where(double.IsFinite).Append(mx).ToList();
        var ys = paths.SelectMany(p => p.Y).Where(double.IsFinite).Append(my).ToList();
        double x0 = xs.Min(), x1 = xs.Max(), y0 = ys.Min(), y1 = ys.Max();
        double padX = Math.Max(0.15 * (x1 - x0), 0.5), padY = Math.Max(0.15 * (y1 - y0), 0.5);
        (x0, x1, y0, y1) = (x0 - padX, x1 + padX, y0 - padY, y1 + padY);

        const int n = 200;
        var z = new double[n, n];   // row 0 is the top of the image
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
            {
                double x = x0 + (c + 0.5) * (x1 - x0) / n, y = y1 - (r + 0.5) * (y1 - y0) / n;
                z[r, c] = Math.Log10(TestFunctions.Evaluate(function, x, y) + 1e-12);
            }

        var plt = new Plot();
        var hm = plt.Add.Heatmap(z);
        hm.Extent = new CoordinateRect(x0, x1, y0, y1);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        plt.Add.ColorBar(hm).Label = "log10 loss";

        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < paths.Count; i++)
        {
            var (label, px, py, loss) = paths[i];
            var line = plt.Add.Scatter(px, py);
            line.Color = palette.GetColor(i == 2 ? 9 : i + 1);   // skip Category10 red and grey (markers)
            line.LineWidth = 2;
            line.MarkerSize = 0;
            line.LinePattern = i % 2 == 0 ? LinePattern.Solid : LinePattern.Dashed;   // overlapping paths stay visible
            line.LegendText = $"{label} (final loss {loss:G3})";
        }
        var start = plt.Add.Marker(paths[0].X[0], paths[0].Y[0], MarkerShape.FilledCircle, 10, Colors.White);
        start.LegendText = "start";
        var min = plt.Add.Marker(mx, my, MarkerShape.FilledDiamond, 12, Colors.Magenta);
        min.LegendText = "minimum";
        plt.Axes.SetLimits(x0, x1, y0, y1);
        plt.Title($"{function}: {paths[0].X.Length - 1} steps");
        plt.XLabel("x0");
        plt.YLabel("x1");
        plt.ShowLegend(Alignment.UpperLeft);
        plt.SavePng(file, width, height);
    }
}
