// Plugins: a user's assembly of envs and networks: loaded from a file (tiny ... --assembly FILE.dll), its ITinyPlugin
// classes run once per process, and what each one registered remembered, so that a run's config.json names the
// assemblies its env and network came from and tiny eval / export / --resume can load them again.
using System.Reflection;
using System.Runtime.Loader;

namespace Tiny.Rl;

/// <summary>
/// The registration hook of a plugin assembly: a public class with a public parameterless constructor whose
/// <see cref="Register"/> registers the assembly's envs (<see cref="Env.Register"/>) and networks
/// (<see cref="Networks.Register"/>). <see cref="Plugins.Load(string)"/> (the CLI's --assembly) finds every such class
/// in the assembly and runs each once per process.
/// </summary>
public interface ITinyPlugin
{
    /// <summary>Registers the plugin's envs and networks.</summary>
    void Register();
}

/// <summary>Loads plugin assemblies and runs their <see cref="ITinyPlugin"/> classes once per process.</summary>
public static class Plugins
{
    private static readonly object Lock = new();
    private static readonly HashSet<Assembly> Ran = [];
    private static readonly HashSet<string> ResolvedDirs = new(StringComparer.Ordinal);

    /// <summary>The file of the assembly whose plugin is registering on this thread now, or null: what the registries
    /// record as the source of each env and network.</summary>
    [ThreadStatic] private static string? _registering;

    internal static string? Registering => _registering;

    /// <summary>The config.json key of the assembly files a run's env and network came from.</summary>
    public const string ConfigKey = "assemblies";

    /// <summary>
    /// Loads the assembly at path into the default load context (so it shares Tiny's own assemblies; its other
    /// dependencies are found beside it) and runs its plugins (<see cref="Load(Assembly)"/>). An assembly of that
    /// name already loaded is used as is. A missing file is a FileNotFoundException; a file that is not a .NET
    /// assembly, or one without a plugin class, an ArgumentException; each one line naming the file.
    /// </summary>
    public static Assembly Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new ArgumentException($"plugin assembly {path}: a folder, not a .dll file");
        if (!File.Exists(full)) throw new FileNotFoundException($"plugin assembly {path}: no such file", full);
        AssemblyName name;
        try { name = AssemblyName.GetAssemblyName(full); }
        catch (BadImageFormatException) { throw new ArgumentException($"plugin assembly {path}: not a .NET assembly"); }
        Assembly assembly;
        lock (Lock)
        {
            assembly = AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => a.GetName().Name == name.Name)
                       ?? LoadFrom(full);
        }
        Load(assembly);
        return assembly;
    }

    private static Assembly LoadFrom(string full)
    {
        // Its own dependencies (not Tiny's, which the default context already holds) are resolved beside it.
        string dir = Path.GetDirectoryName(full)!;
        if (ResolvedDirs.Add(dir))
        {
            var resolver = new AssemblyDependencyResolver(full);
            AssemblyLoadContext.Default.Resolving += (ctx, n) =>
                resolver.ResolveAssemblyToPath(n) is { } p ? ctx.LoadFromAssemblyPath(p)
                : File.Exists(Path.Combine(dir, n.Name + ".dll")) ? ctx.LoadFromAssemblyPath(Path.Combine(dir, n.Name + ".dll")) : null;
        }
        try { return AssemblyLoadContext.Default.LoadFromAssemblyPath(full); }
        catch (Exception e) when (e is FileLoadException or BadImageFormatException)
        {
            throw new ArgumentException($"plugin assembly {full}: cannot be loaded: {e.Message}", e);
        }
    }

    /// <summary>Runs every public non-abstract <see cref="ITinyPlugin"/> class of assembly (a new instance's Register),
    /// once per process: a second call for the same assembly does nothing. ArgumentException when it has none;
    /// InvalidOperationException naming the class when its Register fails.</summary>
    public static void Load(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        lock (Lock)
        {
            if (Ran.Contains(assembly)) return;
            string file = string.IsNullOrEmpty(assembly.Location) ? assembly.GetName().Name ?? "?" : assembly.Location;
            Type[] types;
            try { types = assembly.GetExportedTypes(); }
            catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException or TypeLoadException)
            {
                string why = e is ReflectionTypeLoadException r && r.LoaderExceptions.FirstOrDefault(x => x is not null) is { } first ? first.Message : e.Message;
                throw new ArgumentException($"plugin assembly {file}: its types cannot be loaded (a dependency missing beside it?): {why}", e);
            }
            var plugins = types.Where(t => typeof(ITinyPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }).OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();
            if (plugins.Count == 0)
                throw new ArgumentException($"plugin assembly {file}: no public class implements {typeof(ITinyPlugin).FullName} (a public class with a parameterless constructor whose Register() registers the envs and networks)");
            string? outer = _registering;
            _registering = string.IsNullOrEmpty(assembly.Location) ? null : assembly.Location;
            try
            {
                foreach (var t in plugins)
                {
                    ITinyPlugin plugin;
                    try { plugin = (ITinyPlugin)Activator.CreateInstance(t)!; }
                    catch (Exception e) when (e is MissingMethodException or TargetInvocationException or MemberAccessException)
                    {
                        throw new ArgumentException($"plugin assembly {file}: {t.FullName} cannot be created ({(e as TargetInvocationException)?.InnerException?.Message ?? e.Message}); it needs a public parameterless constructor", e);
                    }
                    try { plugin.Register(); }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        throw new InvalidOperationException($"plugin assembly {file}: {t.FullName}.Register() failed: {e.Message.ReplaceLineEndings(" ")}", e);
                    }
                }
                Ran.Add(assembly);
            }
            finally { _registering = outer; }
        }
    }

    /// <summary>The assembly files (full paths) whose plugins registered envId and net, in that order, without
    /// repeats; empty when both were registered in code or built in.</summary>
    public static IReadOnlyList<string> SourcesOf(string envId, string? net) =>
        new[] { Env.SourceOf(envId), Networks.SourceOf(net) }.OfType<string>().Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>Adds config[<see cref="ConfigKey"/>] = <see cref="SourcesOf"/> when there are any and returns config
    /// (agents call this when they write config.json).</summary>
    internal static JsonObject WithSources(this JsonObject config, string envId, string? net)
    {
        var sources = SourcesOf(envId, net);
        if (sources.Count > 0) config[ConfigKey] = new JsonArray(sources.Select(s => (JsonNode?)s).ToArray());
        return config;
    }

    /// <summary>The assembly files a run's config.json (a folder's, or the file itself) names under
    /// <see cref="ConfigKey"/>; empty when it names none or cannot be read (loading the run reports that).</summary>
    public static IReadOnlyList<string> Named(string runOrConfig)
    {
        string path = Directory.Exists(runOrConfig) ? Path.Combine(runOrConfig, "config.json") : runOrConfig;
        try
        {
            if (!File.Exists(path) || JsonNode.Parse(File.ReadAllText(path))?[ConfigKey] is not JsonArray a) return [];
            return a.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToArray();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { return []; }
    }
}
