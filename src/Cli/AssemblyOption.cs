// AssemblyOption: `--assembly FILE.dll` (repeatable) of tiny train, eval and export: loads a user's plugin assemblies and
// runs their ITinyPlugin classes (which register envs and networks); without it, a saved run's own, named in its config.json.
using System.CommandLine;
using Tiny.Rl;

namespace Tiny.Cli;

internal static class AssemblyOption
{
    /// <summary>The option: one file per --assembly, given as often as needed.</summary>
    public static Option<string[]> Create(string description) => CliParsing.Repeated("--assembly", "FILE.dll", description);

    /// <summary>The help text of the option for commands that read a saved run.</summary>
    public const string ForRun = "a plugin assembly registering the run's env or network (repeatable; default: those RUN/config.json names)";

    /// <summary>
    /// Loads the given assemblies (each one's plugins run once per process); when none is given and config (a run's
    /// config.json) is, the assemblies it names instead. A missing or unusable assembly is a CliError of one line.
    /// </summary>
    public static void Load(IReadOnlyList<string>? given, string? config = null)
    {
        if (given is { Count: > 0 })
        {
            foreach (var path in given) LoadOne(path);
            return;
        }
        if (config is null) return;
        foreach (var path in Plugins.Named(config))
        {
            if (!File.Exists(path))
                throw new CliError($"{config} names the plugin assembly {path}, which is missing: pass --assembly FILE.dll, the assembly that registers the run's env and network");
            LoadOne(path);
        }
    }

    private static void LoadOne(string path)
    {
        try { Plugins.Load(path); }
        catch (FileNotFoundException) { throw new CliError($"--assembly {path}: no such file"); }
    }

    /// <summary>
    /// What a saved run needs before it loads: the given assemblies, else those its config.json (config; default
    /// RUN/config.json) names; then a CliError if its env is still not registered (a plugin's env that nothing
    /// registered here). A missing or corrupt config.json is left to the loading that follows to report.
    /// </summary>
    public static void LoadForRun(string run, IReadOnlyList<string>? given, string? config = null)
    {
        config ??= Path.Combine(run, "config.json");
        Load(given, config);
        string? envId = null;
        try { envId = File.Exists(config) ? Agents.ConfigEnvId(System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))) : null; }
        catch (System.Text.Json.JsonException) { }
        if (envId is not null && !Env.IsRegistered(envId))
            throw new CliError($"{run} was trained on '{envId}', which is not registered here: pass --assembly FILE.dll, the assembly whose ITinyPlugin registers it");
    }
}
