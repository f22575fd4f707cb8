// CliParsing: what every `tiny` command builds its System.CommandLine options from (typed values whose errors are one
// line naming the flag, '_' spellings of kebab-case flags, help rows with defaults) and a failed parse made into the one
// line the user sees.
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Tiny.Cli;

internal static class CliParsing
{
    /// <summary>How every command line is tokenised: tokens stay literal (no `@file` response files, no `-abc`
    /// bundling), so a value such as `-1.2,1` or `@x` is just a value.</summary>
    public static ParserConfiguration Config { get; } = new() { EnablePosixBundling = false, ResponseFileTokenReplacer = null };

    /// <summary>A value option --name taking one value, parsed by parse (which throws <see cref="CliError"/> with the
    /// message for a bad value). valueName is the placeholder help shows (N, X, DIR).</summary>
    public static Option<T> Value<T>(string name, string valueName, string description, Func<string, T> parse)
    {
        var o = new Option<T>(name, Aliases(name)) { Description = description, HelpName = valueName, Arity = ArgumentArity.ExactlyOne };
        o.CustomParser = r => r.Tokens.Count == 1 ? Parse(r, name, r.Tokens[0].Value, parse) : default!;
        return o;
    }

    /// <summary>A switch --name: bare is true; `--name true|false` or `--name=true|false` set it explicitly (the
    /// parser takes only those two words as its value: `--name maybe` leaves 'maybe' an unexpected argument).</summary>
    public static Option<bool> Switch(string name, string description) =>
        new(name, Aliases(name)) { Description = description, Arity = ArgumentArity.ZeroOrOne };

    /// <summary>An option --name given once or more, one value each time (`--optimizer adam --optimizer sgd`).</summary>
    public static Option<string[]> Repeated(string name, string valueName, string description)
    {
        var o = new Option<string[]>(name, Aliases(name))
        {
            Description = description, HelpName = valueName, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false,
        };
        o.CustomParser = r => r.Tokens.Select(t => Parse(r, name, t.Value, v => v)).ToArray();
        return o;
    }

    /// <summary>A list of integers --name: `64,64`, `64 64`, or the flag repeated.</summary>
    public static Option<int[]> IntList(string name, string description)
    {
        var o = new Option<int[]>(name, Aliases(name))
        {
            Description = description, HelpName = "N,N...", Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true,
        };
        o.CustomParser = r =>
        {
            var values = new List<int>();
            foreach (var token in r.Tokens)
                values.AddRange(Parse(r, name, token.Value, t => t.Split(',').Select(x =>
                    int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
                        : throw new CliError($"{name}: '{t}' is not a list of integers (64,64 or 64 64)")).ToArray()) ?? []);
            return values.ToArray();
        };
        return o;
    }

    /// <summary>Runs parse on one token; a bad value becomes the option's parse error (one line naming the flag). A
    /// token that is itself a flag means the value is missing (`--lr --seed 3`).</summary>
    private static T Parse<T>(ArgumentResult r, string name, string token, Func<string, T> parse)
    {
        if (token.StartsWith("--", StringComparison.Ordinal) && token.Length > 2)
        {
            r.AddError($"{name} needs a value (got the flag {token})");
            return default!;
        }
        try { return parse(token); }
        catch (Exception e) when (e is CliError or ArgumentException or FormatException)
        {
            r.AddError(Program.OneLine(e));
            return default!;
        }
    }

    /// <summary>The other spelling of a kebab-case flag: --weight-decay is also --weight_decay (the registry's keys
    /// are snake_case, and config.json writes them so).</summary>
    private static string[] Aliases(string name) =>
        name.IndexOf('-', 2) > 0 ? ["--" + name[2..].Replace('-', '_')] : [];

    /// <summary>An integer value, or a CliError naming flag.</summary>
    public static int Int(string text, string flag) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new CliError($"{flag}: '{text}' is not an integer");

    /// <summary>A positive integer value, or a CliError naming flag.</summary>
    public static long Positive(string text, string flag) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v > 0 ? v
            : throw new CliError($"{flag}: '{text}' is not a positive integer");

    /// <summary>A finite number, or a CliError naming flag.</summary>
    public static double Number(string text, string flag) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new CliError($"{flag}: '{text}' is not a number");

    /// <summary>Whether the user gave option o (a default does not count).</summary>
    public static bool Given(this ParseResult r, Option o) => r.GetResult(o) is { Implicit: false };

    /// <summary>
    /// A failed parse as one line: the first bad value, missing value or repeated flag; else the first unknown token
    /// (an unknown option, with the nearest known one when it is a likely typo, or an unexpected argument), unless
    /// unknownToken names it for a command that gives such tokens a meaning (`tiny train a2c`: an unknown agent).
    /// </summary>
    public static string OneLine(ParseResult r, Func<Command, string, string?>? unknownToken = null)
    {
        foreach (var e in r.Errors)
            if (e.SymbolResult is OptionResult o)
            {
                string name = o.Option.Name;
                if (o.Tokens.Count == 0 && o.Option.Arity.MinimumNumberOfValues > 0) return $"{name} needs a value";
                if (o.Tokens.Count > 1 && o.Option.Arity.MaximumNumberOfValues == 1) return $"{name} is given more than once";
                return e.Message.ReplaceLineEndings(" ");
            }
            else if (e.SymbolResult is ArgumentResult) return e.Message.ReplaceLineEndings(" ");
        var command = r.CommandResult.Command;
        if (r.UnmatchedTokens.Count > 0)
        {
            string token = r.UnmatchedTokens[0];
            if (unknownToken?.Invoke(command, token) is { } meaning) return meaning;
            if (token.StartsWith('-') && token.Length > 1 && !double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                string flag = token.Split('=', ':')[0];
                string? near = Nearest(flag, command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)));
                return $"unknown option '{flag}' for {Path(command)}" + (near is null ? $" ({Path(command)} --help lists them)" : $"; did you mean {near}?");
            }
            string after = Preceding(r, token) is { } prev && command.Options.FirstOrDefault(o => o.Name == prev || o.Aliases.Contains(prev)) is Option<bool> sw
                ? $" ({sw.Name} is a switch: bare, or {sw.Name} true|false)" : "";
            return $"unexpected argument '{token}'{after}";
        }
        return r.Errors.Count > 0 ? r.Errors[0].Message.ReplaceLineEndings(" ") : "bad command line";
    }

    /// <summary>"tiny train ppo": the command and those above it.</summary>
    public static string Path(Command c)
    {
        var names = new List<string>();
        for (Symbol? s = c; s is not null; s = s.Parents.FirstOrDefault())
            names.Insert(0, s is RootCommand ? "tiny" : s.Name);
        return string.Join(' ', names);
    }

    /// <summary>The token just before the first occurrence of token on the command line, or null.</summary>
    private static string? Preceding(ParseResult r, string token)
    {
        var tokens = r.Tokens.Select(t => t.Value).ToList();
        int i = tokens.IndexOf(token);
        return i > 0 ? tokens[i - 1] : null;
    }

    /// <summary>The known flag nearest to typed (at most 2 edits, or a quarter of its length), or null.</summary>
    private static string? Nearest(string typed, IEnumerable<string> known)
    {
        var best = known.Distinct().Select(k => (k, d: Distance(typed, k))).OrderBy(x => x.d).ThenBy(x => x.k, StringComparer.Ordinal).FirstOrDefault();
        return best.k is not null && best.d <= Math.Max(2, typed.Length / 4) ? best.k : null;
    }

    private static int Distance(string a, string b)
    {
        var d = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) d[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int diag = d[0];
            d[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int up = d[j];
                d[j] = Math.Min(Math.Min(d[j] + 1, d[j - 1] + 1), diag + (a[i - 1] == b[j - 1] ? 0 : 1));
                diag = up;
            }
        }
        return d[b.Length];
    }

    /// <summary>A help line of option o: its name and value placeholder, then its description and default.</summary>
    public static string Row(Option o, string? defaultText = null, int width = 22)
    {
        if (defaultText is null && o.HasDefaultValue && o is not Option<bool>)
            defaultText = o.GetDefaultValue() is { } v0 ? Convert.ToString(v0, CultureInfo.InvariantCulture) : null;
        string usage = o.Name + (o.HelpName is { } v && o is not Option<bool> ? " " + v : "");
        string text = (defaultText is null ? o.Description : $"{o.Description?.TrimEnd('.')} (default {defaultText})") ?? "";
        return $"  {usage.PadRight(width)} {text}".TrimEnd();
    }

    /// <summary>--help (-h, -?) for one command: writes that command's own text with write (options grouped, defaults
    /// shown) to stdout, exit 0, instead of System.CommandLine's generic listing.</summary>
    public static System.CommandLine.Help.HelpOption Help(Action<ParseResult, TextWriter> write) => new("--help", "-h", "-?")
    {
        Description = "this help",
        Recursive = false,
        Action = new Run(r => { write(r, r.InvocationConfiguration.Output); return Program.Ok; }, clearsErrors: true),
    };

    /// <summary>A command-line action from a function of the parse result.</summary>
    internal sealed class Run(Func<ParseResult, int> action, bool clearsErrors = false) : SynchronousCommandLineAction
    {
        /// <inheritdoc/>
        public override int Invoke(ParseResult parseResult) => action(parseResult);

        /// <inheritdoc/>
        public override bool ClearsParseErrors => clearsErrors;
    }
}
