// OptimizerFlags: every option of every registered optimizer as a parser option (--weight-decay X, --amsgrad), generated
// from the registry (Tiny.Optim.Optimizers) for tiny train and tiny optim, so a new optimizer's options are flags at once.
using System.CommandLine;
using System.CommandLine.Parsing;
using Tiny.Optim;

namespace Tiny.Cli;

/// <summary>The optimizer flags of one command: one option per distinct key over the registry (kebab-case), a switch
/// where any optimizer's key is a boolean, except the flags the command already has (tiny train ppo's --gamma is the
/// discount, so AdaBound's gamma is given in the spec: --optimizer adabound:gamma=X).</summary>
internal sealed class OptimizerFlags
{
    private readonly List<(Option Option, bool IsBool)> _options = [];

    /// <summary>The flags of every registered optimizer not in taken (flags with their dashes).</summary>
    public OptimizerFlags(IReadOnlySet<string> taken)
    {
        var isBool = new Dictionary<string, bool>();
        foreach (var name in Optimizers.Names)
            foreach (var o in Optimizers.Info(name).Options)
                isBool[o.Flag] = isBool.GetValueOrDefault(o.Flag) || o.IsBool;
        foreach (var (flag, b) in isBool)
        {
            if (taken.Contains(flag)) { Shadowed.Add(flag); continue; }
            string takers = string.Join(", ", Optimizers.Names.Where(n => Optimizers.Info(n).Find(flag[2..]) is not null));
            string description = $"the optimizer's {flag[2..].Replace('-', '_')} ({takers})";
            _options.Add((b ? CliParsing.Switch(flag, description)
                            : CliParsing.Value(flag, "X", description, text => { CliParsing.Number(text, flag); return text; }), b));
        }
    }

    /// <summary>The parser options, in the registry's order of first appearance.</summary>
    public IEnumerable<Option> Options => _options.Select(o => o.Option);

    /// <summary>The registry flags left out because the command has a flag of that name.</summary>
    public SortedSet<string> Shadowed { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether --flag is one of these options.</summary>
    public bool Takes(string flag) => _options.Any(o => o.Option.Name == flag);

    /// <summary>The flags given on the command line: key without dashes (kebab-case) -> the value as text (booleans
    /// true/false), in the registry's order.</summary>
    public Dictionary<string, string> Given(ParseResult r)
    {
        var given = new Dictionary<string, string>();
        foreach (var (o, b) in _options)
            if (r.Given(o))
                given[o.Name[2..]] = b ? (r.GetValue((Option<bool>)o) ? "true" : "false") : r.GetValue((Option<string>)o)!;
        return given;
    }
}
