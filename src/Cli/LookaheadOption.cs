// LookaheadOption: `--lookahead K[,ALPHA]` on tiny train and tiny optim, the spec keys lookahead_k/lookahead_alpha
// (Lookahead wraps any optimizer) spelled as one flag.
using System.CommandLine;
using System.Globalization;

namespace Tiny.Cli;

internal static class LookaheadOption
{
    /// <summary>The --lookahead option: its text, checked while parsing.</summary>
    public static Option<string> Create() =>
        CliParsing.Value("--lookahead", "K[,A]", "wrap the optimizer in Lookahead: every K steps pull the weights toward slow weights by A (0.8)",
                         text => { Parse(text); return text; });

    /// <summary>The spec keys of `--lookahead K[,ALPHA]`: K a positive step count, ALPHA in [0, 1] (default: Lookahead's 0.8).</summary>
    public static (double K, double? Alpha) Parse(string text)
    {
        var parts = text.Split(',');
        if (parts.Length > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k <= 0)
            throw new ArgumentException($"--lookahead: '{text}' is not K[,ALPHA] with K a positive number of steps (e.g. 5,0.5)");
        if (parts.Length == 1) return (k, null);
        if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double a) || a is < 0 or > 1)
            throw new ArgumentException($"--lookahead: ALPHA '{parts[1]}' is not a number in [0, 1]");
        return (k, a);
    }

    /// <summary>A spec string with the lookahead keys of `--lookahead` added.</summary>
    public static string AddTo(string spec, string text)
    {
        var (k, a) = Parse(text);
        string keys = $"lookahead_k={k.ToString(CultureInfo.InvariantCulture)}" + (a is double alpha ? $",lookahead_alpha={alpha.ToString("R", CultureInfo.InvariantCulture)}" : "");
        return spec + (spec.Contains(':') ? "," : ":") + keys;
    }
}
