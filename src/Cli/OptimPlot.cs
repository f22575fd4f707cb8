// Draws optimizer paths over a log-loss heatmap of a 2-D test function (ScottPlot 5, PNG).
using ScottPlot;
using Tiny.Optim;

namespace Tiny.Cli;

internal static class OptimPlot
{
    /// <summary>The one line for a platform the tool carries no SkiaSharp native library for (its package carries
    /// linux-x64, win-x64 and macOS only): there nothing can be plotted.</summary>
    internal const string NoNativeLibrary = "plotting needs SkiaSharp's native library, which this platform lacks (linux-x64, win-x64 and macOS have it)";

    /// <summary>True when e (or an exception inside it) says SkiaSharp's or HarfBuzzSharp's native library could not
    /// be loaded: a DllNotFoundException, or a failed type initializer of one of their types.</summary>
    internal static bool IsMissingNative(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is DllNotFoundException
                || x is TypeInitializationException { TypeName: { } t } && (t.StartsWith("SkiaSharp.", StringComparison.Ordinal) || t.StartsWith("HarfBuzzSharp.", StringComparison.Ordinal)))
                return true;
        return false;
    }

    public static void Save(string file, string function, List<(string Label, double[] X, double[] Y, double Loss)> paths, int width, int height)
    {
        // A path that blows up is drawn up to the step before it leaves the finite plane (|x| > 1e6), and says so.
        var (mx, my) = TestFunctions.Minimum(function);
        var diverged = new int?[paths.Count];
        for (int i = 0; i < paths.Count; i++)
        {
            var (label, px, py, loss) = paths[i];
            int k = Enumerable.Range(0, px.Length).FirstOrDefault(j => !(Math.Abs(px[j]) <= 1e6 && Math.Abs(py[j]) <= 1e6), -1);
            if (k < 0) continue;
            diverged[i] = k;
            paths[i] = (label, px[..Math.Max(k, 1)], py[..Math.Max(k, 1)], loss);
        }
        // The view: the path points and the minimum, with a margin, within 10x the start's distance to the minimum
        // (a path that wanders further is clipped by the frame, so the others stay readable).
        double reach = 10 * Math.Max(1, Math.Sqrt(Math.Pow(paths[0].X[0] - mx, 2) + Math.Pow(paths[0].Y[0] - my, 2)));
        bool Near(double x, double y) => Math.Abs(x - mx) <= reach && Math.Abs(y - my) <= reach;
        var pts = paths.SelectMany(p => p.X.Zip(p.Y)).Where(q => Near(q.First, q.Second)).Append((mx, my)).ToList();
        var xs = pts.Select(q => q.Item1).ToList();
        var ys = pts.Select(q => q.Item2).ToList();
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
        double top = z.Cast<double>().Where(double.IsFinite).DefaultIfEmpty(0).Max();
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
                if (!double.IsFinite(z[r, c])) z[r, c] = top;   // an overflowing corner takes the largest finite value

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
            line.LegendText = diverged[i] is int k ? $"{label} (diverged at step {k})" : $"{label} (final loss {loss:G3})";
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
