// Draws optimizer paths over a log-loss heatmap of a 2-D test function, with loss-per-step and step-size panels beside
// them (ScottPlot 5, one PNG); the view and the heatmap grid are shared with `tiny optim page`.
using ScottPlot;
using SkiaSharp;
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

    /// <summary>One optimizer's path: its label, the points x_0..x_N and the loss f(x_k) at each.</summary>
    internal sealed record Trail(string Label, double[] X, double[] Y, double[] Loss);

    /// <summary>The part of the plane drawn: x in [X0, X1], y in [Y0, Y1].</summary>
    internal readonly record struct View(double X0, double X1, double Y0, double Y1);

    /// <summary>The first step whose point has left the finite plane (|x| or |y| above 1e6, or not a number): a path
    /// is drawn up to the step before it. Null when it never does.</summary>
    internal static int? Diverged(double[] x, double[] y)
    {
        for (int k = 0; k < x.Length; k++)
            if (!(Math.Abs(x[k]) <= 1e6 && Math.Abs(y[k]) <= 1e6)) return k;
        return null;
    }

    /// <summary>The view: the paths' points and the minimum with a 15% margin (at least 0.5), ignoring points further
    /// than 10x the start's distance to the minimum from it (a path that wanders off is clipped by the frame, so the
    /// others stay readable).</summary>
    internal static View ViewOf(string function, IEnumerable<(double[] X, double[] Y)> paths, double startX, double startY)
    {
        var (mx, my) = TestFunctions.Minimum(function);
        double reach = 10 * Math.Max(1, Math.Sqrt(Math.Pow(startX - mx, 2) + Math.Pow(startY - my, 2)));
        double x0 = mx, x1 = mx, y0 = my, y1 = my;
        foreach (var (px, py) in paths)
            for (int k = 0; k < px.Length; k++)
                if (Math.Abs(px[k] - mx) <= reach && Math.Abs(py[k] - my) <= reach)
                    (x0, x1, y0, y1) = (Math.Min(x0, px[k]), Math.Max(x1, px[k]), Math.Min(y0, py[k]), Math.Max(y1, py[k]));
        double padX = Math.Max(0.15 * (x1 - x0), 0.5), padY = Math.Max(0.15 * (y1 - y0), 0.5);
        return new(x0 - padX, x1 + padX, y0 - padY, y1 + padY);
    }

    /// <summary>log10(f + 1e-12) on an n x n grid of cell centres over the view, row 0 at the top (largest y); a cell
    /// where f overflows takes the largest finite value.</summary>
    internal static double[,] LogLoss(string function, View v, int n)
    {
        var z = new double[n, n];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
            {
                double x = v.X0 + (c + 0.5) * (v.X1 - v.X0) / n, y = v.Y1 - (r + 0.5) * (v.Y1 - v.Y0) / n;
                z[r, c] = Math.Log10(TestFunctions.Evaluate(function, x, y) + 1e-12);
            }
        double top = z.Cast<double>().Where(double.IsFinite).DefaultIfEmpty(0).Max();
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
                if (!double.IsFinite(z[r, c])) z[r, c] = top;
        return z;
    }

    /// <summary>|x_k - x_{k-1}| for k = 1..N: the length of each step.</summary>
    internal static double[] StepSizes(double[] x, double[] y) =>
        Enumerable.Range(1, x.Length - 1).Select(k => Math.Sqrt(Math.Pow(x[k] - x[k - 1], 2) + Math.Pow(y[k] - y[k - 1], 2))).ToArray();

    /// <summary>Writes the PNG: on the left the paths over the log-loss heatmap with the legend under the frame (where
    /// it hides no path); on the right the loss and the step length |Δx| against the step, both on log scales (a
    /// value that is 0 or not finite is left out). The same colour and dash mark an optimizer in every panel.</summary>
    public static void Save(string file, string function, List<Trail> paths, int width, int height)
    {
        var diverged = paths.Select(p => Diverged(p.X, p.Y)).ToArray();
        // A path that blows up is drawn up to the step before it leaves the finite plane, and says so.
        var drawn = paths.Select((p, i) => diverged[i] is int k ? p with { X = p.X[..Math.Max(k, 1)], Y = p.Y[..Math.Max(k, 1)] } : p).ToList();
        var view = ViewOf(function, drawn.Select(p => (p.X, p.Y)), paths[0].X[0], paths[0].Y[0]);
        var (mx, my) = TestFunctions.Minimum(function);

        var map = new Plot();
        var hm = map.Add.Heatmap(LogLoss(function, view, 200));
        hm.Extent = new CoordinateRect(view.X0, view.X1, view.Y0, view.Y1);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        map.Add.ColorBar(hm).Label = "log10 loss";
        var loss = new Plot();
        var steps = new Plot();
        for (int i = 0; i < drawn.Count; i++)
        {
            var (color, pattern) = Style(i);
            var p = drawn[i];
            var line = map.Add.Scatter(p.X, p.Y);
            line.LineWidth = 2;
            line.MarkerSize = 0;
            (line.Color, line.LinePattern) = (color, pattern);
            line.LegendText = diverged[i] is int k ? $"{p.Label} (diverged at step {k})" : $"{p.Label} (final loss {p.Loss[^1]:G3})";
            int n = diverged[i] ?? p.Loss.Length;
            AddLog(loss, p.Loss[..n], first: 0, color, pattern);
            AddLog(steps, StepSizes(p.X, p.Y)[..Math.Max(n - 1, 0)], first: 1, color, pattern);
        }
        var start = map.Add.Marker(paths[0].X[0], paths[0].Y[0], MarkerShape.FilledCircle, 10, Colors.White);
        start.LegendText = "start";
        (start.MarkerStyle.OutlineColor, start.MarkerStyle.OutlineWidth) = (Colors.Black, 1);   // visible on the white legend too
        var min = map.Add.Marker(mx, my, MarkerShape.FilledDiamond, 12, Colors.Magenta);
        min.LegendText = "minimum";
        map.Axes.SetLimits(view.X0, view.X1, view.Y0, view.Y1);
        map.Title($"{function}: {paths[0].X.Length - 1} steps from ({paths[0].X[0]:G4}, {paths[0].Y[0]:G4})");
        map.XLabel("x0");
        map.YLabel("x1");
        map.Legend.IsVisible = false;   // drawn under the frame instead (below), where it hides no path
        using var legend = SKBitmap.Decode(map.GetLegendImage().GetImageBytes(ImageFormat.Png));
        foreach (var (plt, title, y) in new[] { (loss, "loss f(x_k)", "loss"), (steps, "step length |x_k - x_(k-1)|", "|Δx|") })
        {
            plt.Title(title, size: 14);
            plt.XLabel("step k");
            plt.YLabel(y + " (log scale)");
            InspectCommand.LogTicks(plt);
            plt.Axes.SetLimitsX(0, Math.Max(1, paths[0].X.Length - 1));
        }

        // Left: the map, 60% of the width, and its legend under it; right: the two curves, one above the other.
        int left = (int)(width * 0.6), mapHeight = Math.Max(height / 2, height - legend.Height - 8);
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        surface.Canvas.Clear(SKColors.White);
        surface.Canvas.DrawBitmap(legend, Math.Max(0, (left - legend.Width) / 2), mapHeight);
        foreach (var (plt, rect) in new[] { (map, new PixelRect(0, left, mapHeight, 0)), (loss, new PixelRect(left, width, height / 2, 0)),
                                            (steps, new PixelRect(left, width, height, height / 2)) })
        {
            surface.Canvas.Save();
            surface.Canvas.ClipRect(new SKRect(rect.Left, rect.Top, rect.Right, rect.Bottom));   // a plot clears what it may draw on
            plt.Render(surface.Canvas, rect);
            surface.Canvas.Restore();
        }
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        string tmp = file + $".tmp-{Environment.ProcessId}";
        using (var f = File.Create(tmp)) png.SaveTo(f);
        File.Move(tmp, file, overwrite: true);
    }

    /// <summary>The colour and dash of the i-th path: Category10 without its red and grey (the markers), solid and
    /// dashed in turn so overlapping paths stay visible.</summary>
    internal static (Color Color, LinePattern Pattern) Style(int i) =>
        (new ScottPlot.Palettes.Category10().GetColor(i == 2 ? 9 : i + 1), i % 2 == 0 ? LinePattern.Solid : LinePattern.Dashed);

    /// <summary>log10 of the positive finite values against their step (first, first+1, ...) as one line.</summary>
    private static void AddLog(Plot plt, double[] values, int first, Color color, LinePattern pattern)
    {
        var kept = values.Select((v, k) => (Step: (double)(k + first), V: v)).Where(q => q.V > 0 && double.IsFinite(q.V)).ToArray();
        if (kept.Length == 0) return;
        var line = plt.Add.ScatterLine(kept.Select(q => q.Step).ToArray(), kept.Select(q => Math.Log10(q.V)).ToArray());
        (line.Color, line.LinePattern, line.LineWidth) = (color, pattern, 2);
    }
}
