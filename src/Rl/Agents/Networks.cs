// Networks: a user's networks in the agents: what an agent asks a network factory for (role, sizes, spaces, generator),
// the registry of named factories that a run's config.json records (so tiny eval and --resume rebuild them), and the
// up-front check that a network maps [batch, input] to [batch, output].
using Tiny.Nn;

namespace Tiny.Rl;

/// <summary>
/// What an agent asks a network factory for. The network takes flat rows, [batch, <see cref="InputSize"/>] (an image
/// observation [C, H, W] arrives flattened; <see cref="QNetworks.Unflatten"/> reshapes it back), and must return
/// [batch, <see cref="OutputSize"/>]; its parameters must be float32 and registered with the module (they are what
/// the agent's optimizer trains, saves and moves to a device).
/// </summary>
/// <param name="Algorithm">"ppo", "dqn" or "td3".</param>
/// <param name="Role">What the network computes: "actor" (PPO: the logits of a Categorical policy or the means of a
/// Gaussian one; TD3: the action before tanh * scale + bias), "critic" (PPO: V(s); TD3: Q(s, a) of obs ++ action), or
/// "q" (DQN: one Q-value per action).</param>
/// <param name="Name">Which network of the agent: PPO "actor", "critic"; DQN "q_network", "target_network"; TD3
/// "actor", "qf1", "qf2", "actor_target", "qf1_target", "qf2_target". Targets are made by calling the factory again and
/// copying the online network's values into the result, so the factory must build a new module each call.</param>
/// <param name="EnvId">The env the agent trains on.</param>
/// <param name="ObservationSpace">The env's observations.</param>
/// <param name="ActionSpace">The env's actions.</param>
/// <param name="InputSize">Floats per input row: the observation's size (TD3's critic: observation plus action).</param>
/// <param name="OutputSize">Floats per output row.</param>
/// <param name="Rng">The agent's generator, seeded from its options' seed: draw initial weights from it so that a seed
/// gives the same run.</param>
public sealed record NetworkContext(string Algorithm, string Role, string Name, string EnvId, Box ObservationSpace, Space ActionSpace,
                                    int InputSize, int OutputSize, Rng Rng)
{
    /// <summary>What the output holds, for error messages: "one logit per action of Discrete(2)".</summary>
    internal string OutputMeaning => (Algorithm, Role) switch
    {
        ("ppo", "actor") when ActionSpace is Discrete d => $"one logit per action of {d}",
        ("ppo", "actor") => $"the Gaussian's mean, one per dimension of the action space {ActionSpace}",
        ("ppo", "critic") => "V(s), one value",
        ("dqn", _) => $"one Q-value per action of {ActionSpace}",
        ("td3", "actor") => $"the action before tanh * scale + bias, one per dimension of {ActionSpace}",
        ("td3", "critic") => "Q(s, a), one value",
        _ => $"{OutputSize} values",
    };
}

/// <summary>
/// Named network factories: <c>Networks.Register("my-policy", ctx =&gt; new MyNet(ctx.InputSize, ctx.OutputSize, ctx.Rng))</c>,
/// then an agent's options <c>Net = "my-policy"</c> (<c>tiny train ... --net my-policy</c>) build every network of the
/// agent with it (PPO: actor and critic; DQN: Q-network and target; TD3: actor, twin critics and their targets; the
/// factory tells them apart by <see cref="NetworkContext.Role"/>). config.json records the name, so loading the run
/// (Agents.Load, tiny eval, tiny train --resume) rebuilds the same networks, provided the name is registered again
/// (in code, or by the plugin assembly: <see cref="ITinyPlugin"/>).
/// </summary>
public static class Networks
{
    /// <summary>The kinds the agents build themselves: "auto" (cnn for [C, H, W] observations, else mlp), "mlp", "cnn".</summary>
    public static IReadOnlyList<string> BuiltIn => QNetworks.Kinds;

    /// <summary>The net recorded for a factory passed in code (not by name): loading such a run needs the same factory
    /// passed again (<see cref="Agents.Load(string, Func{NetworkContext, Module}?)"/>).</summary>
    public const string InCode = "custom";

    private sealed record Registration(Func<NetworkContext, Module> Factory, string? Source);

    private static readonly object Lock = new();
    private static readonly Dictionary<string, Registration> Registry = new(StringComparer.Ordinal);

    /// <summary>Registers a named factory. The name may not be a built-in kind or "custom"; a taken name throws unless
    /// <paramref name="replace"/>.</summary>
    public static void Register(string name, Func<NetworkContext, Module> factory, bool replace = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        if (BuiltIn.Contains(name.ToLowerInvariant()) || name.Equals(InCode, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"Networks.Register: '{name}' is reserved (built in: {string.Join(", ", BuiltIn)}; '{InCode}': a factory passed in code)", nameof(name));
        lock (Lock)
        {
            if (!replace && Registry.ContainsKey(name)) throw new ArgumentException($"Networks.Register: '{name}' is already registered", nameof(name));
            Registry[name] = new(factory, Plugins.Registering);
        }
    }

    /// <summary>The registered names, sorted.</summary>
    public static IReadOnlyList<string> Registered
    {
        get { lock (Lock) return Registry.Keys.Order(StringComparer.Ordinal).ToArray(); }
    }

    /// <summary>Whether name is registered.</summary>
    public static bool IsRegistered(string name)
    {
        lock (Lock) return Registry.ContainsKey(name);
    }

    /// <summary>The factory registered as name; ArgumentException naming the known ones when it is not.</summary>
    public static Func<NetworkContext, Module> Factory(string name)
    {
        lock (Lock)
            if (Registry.TryGetValue(name, out var r)) return r.Factory;
        throw new ArgumentException(UnknownMessage(name));
    }

    /// <summary>"net 'x' is unknown; ..." with the built-in and registered names.</summary>
    internal static string UnknownMessage(string? name)
    {
        var registered = Registered;
        return name == InCode
            ? $"net '{InCode}' was a network factory passed in code: pass the same factory again (Agents.Load(dir, network)), or register it by name (Networks.Register) so that runs record the name"
            : $"net '{name}' is unknown; built in: {string.Join(", ", BuiltIn)}; registered: {(registered.Count > 0 ? string.Join(", ", registered) : "none")} " +
              "(register one with Networks.Register, or load the assembly that does: tiny ... --assembly FILE.dll)";
    }

    /// <summary>The assembly file whose plugin registered name (null when registered in code).</summary>
    internal static string? SourceOf(string? name)
    {
        if (name is null) return null;
        lock (Lock) return Registry.TryGetValue(name, out var r) ? r.Source : null;
    }

    /// <summary>
    /// Calls factory for ctx and checks the result before any training: a module, with parameters, that maps a
    /// [2, InputSize] batch of zeros to [2, OutputSize]. Any failure is one ArgumentException naming the agent, the
    /// network, the expected and the actual shape.
    /// </summary>
    public static Module Build(Func<NetworkContext, Module> factory, NetworkContext ctx, string label)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(ctx);
        string who = $"{ctx.Algorithm}: {ctx.Name} ({label})";
        Module m;
        try { m = factory(ctx) ?? throw new ArgumentException("the factory returned null"); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ArgumentException($"{who}: its factory failed: {OneLine(e)}", e);
        }
        var ps = m.Parameters().ToList();
        if (ps.Count == 0) throw new ArgumentException($"{who}, a {m.GetType().Name}, has no parameters: there is nothing to train");
        if (ps.FirstOrDefault(p => p.DType != DType.Float32) is { } p64)
            throw new ArgumentException($"{who}, a {m.GetType().Name}, has a {p64.DType} parameter {p64.Name}; the agents train float32 networks");
        const int batch = 2;
        Shape got;
        try
        {
            using var _ = Tensor.NoGrad();
            got = m.Forward(Tensor.Zeros([batch, ctx.InputSize], DType.Float32, Device.Cpu)).Shape;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ArgumentException($"{who}, a {m.GetType().Name}, fails on a [{batch}, {ctx.InputSize}] batch (it must map [batch, {ctx.InputSize}] to [batch, {ctx.OutputSize}]): {OneLine(e)}", e);
        }
        if (got.Count != 2 || got[0] != batch || got[1] != ctx.OutputSize)
            throw new ArgumentException($"{who}, a {m.GetType().Name}, maps [{batch}, {ctx.InputSize}] to [{string.Join(", ", got)}]; expected [{batch}, {ctx.OutputSize}] ({ctx.OutputMeaning})");
        return m;
    }

    /// <summary>Checks that a network built for a target (or a twin) shares no parameter with another: a factory that
    /// returns the same module twice would make the target move with the online network.</summary>
    internal static void CheckDistinct(string algo, IReadOnlyList<(string Name, Module Net)> nets)
    {
        var owner = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, net) in nets)
            foreach (var p in net.Parameters())
                if (!owner.TryAdd(p, name) && owner[p] != name)
                    throw new ArgumentException($"{algo}: the networks {owner[p]} and {name} share the parameter {p.Name}: the network factory must build a new module on each call (targets and twins are separate copies)");
    }

    /// <summary>A target network: a fresh module from factory with online's values copied in (same structure required).</summary>
    internal static Module Copy(Func<NetworkContext, Module> factory, NetworkContext ctx, string label, Module online)
    {
        var target = Build(factory, ctx, label);
        try { target.CopyFrom(online); }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{ctx.Algorithm}: {ctx.Name} ({label}) does not have the online network's structure: {OneLine(e)}; the factory must build the same module on each call", e);
        }
        return target;
    }

    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");
}
