// The optimizer bookkeeping: param groups with typed options, lazily created per-parameter state, ZeroGrad,
// Step, StateDict/LoadStateDict. Subclasses write only the update of one tensor (see Sgd, Adam, ...).
using System.Numerics;
using System.Text.Json.Serialization;

namespace Tiny.Optim;

/// <summary>Options of one param group; each optimizer has its own sealed record (SgdOptions, AdamOptions, ...). Its
/// options (keys, types, defaults) are read from the record by the registry (<see cref="Optimizers"/>), which also
/// writes and reads it as JSON: {"type": name, key: value, ...}.</summary>
[JsonConverter(typeof(OptimizerOptionsJsonConverter))]
public abstract record OptimizerOptions(double Lr)
{
    /// <summary>Lookahead's k, steps between synchronisations of the slow weights (0: no Lookahead). Any optimizer
    /// takes it: the registry wraps the optimizer in <see cref="Lookahead"/> when it is not 0. Not one of the
    /// optimizer's own options (<see cref="Optimizers.WrapperOptions"/>).</summary>
    public int LookaheadK { get; init; }

    /// <summary>Lookahead's alpha, the slow weights' step toward the fast ones (the reference's la_alpha, 0.8).</summary>
    public double LookaheadAlpha { get; init; } = 0.8;

    /// <summary>Throws ArgumentException (PyTorch's wording) for an invalid hyperparameter.</summary>
    public abstract void Validate();

    private protected static void Check(bool ok, string message, string param)
    {
        if (!ok) throw new ArgumentException(message, param);
    }

    /// <summary>A double as Python's repr writes it (1.0, -0.1, 1e-08).</summary>
    private protected static string Py(double x)
    {
        if (double.IsNaN(x)) return "nan";
        if (double.IsInfinity(x)) return x > 0 ? "inf" : "-inf";
        var s = x.ToString("R", System.Globalization.CultureInfo.InvariantCulture).Replace("E", "e");
        return s.Contains('e') || s.Contains('.') ? s : s + ".0";
    }
}

/// <summary>A group of parameters to build an optimizer from: the optimizer's defaults, optionally overridden.</summary>
public sealed record GroupSpec<TOptions>(IEnumerable<Tensor> Params, Func<TOptions, TOptions>? Override = null)
    where TOptions : OptimizerOptions;

/// <summary>A param group of a built optimizer: its parameters and its (replaceable) options.</summary>
public sealed class ParamGroup
{
    private OptimizerOptions _options;

    internal ParamGroup(IReadOnlyList<Tensor> parameters, OptimizerOptions options)
    {
        Params = parameters;
        _options = options;
        InitialLr = options.Lr;
    }

    /// <summary>The group's parameters, in the order given.</summary>
    public IReadOnlyList<Tensor> Params { get; }

    /// <summary>The group's options; replacing them validates the new values.</summary>
    public OptimizerOptions Options
    {
        get => _options;
        set { value.Validate(); _options = value; }
    }

    /// <summary>The learning rate (schedulers set it).</summary>
    public double Lr
    {
        get => _options.Lr;
        set => Options = _options with { Lr = value };
    }

    /// <summary>The lr when the optimizer was built (AdaBound's base_lr).</summary>
    public double InitialLr { get; internal set; }

    /// <summary>Group-level scalars by the reference's names, kept in double and saved in the state dict: what a
    /// reference keeps in its param_group dict beside the options (schedule-free's k, weight_sum, lr_max, train_mode).</summary>
    public Dictionary<string, double> Scalars { get; } = [];
}

/// <summary>The per-parameter state: a step count, named buffers (tensors the parameter's shape and dtype, on its
/// device: one store wherever the parameter lives) and named scalars (NAdam's running product, for one).</summary>
public sealed class ParamState
{
    /// <summary>Steps taken (torch's state['step']).</summary>
    public long Step { get; set; }

    /// <summary>The state tensors by torch's names (exp_avg, momentum_buffer...).</summary>
    public Dictionary<string, Tensor> Buffers { get; } = [];

    /// <summary>Per-parameter scalars by torch's names, kept in double.</summary>
    public Dictionary<string, double> Scalars { get; } = [];

    private string?[]? _boundNames;
    private Storage?[] _bound = [];

    internal long Bytes => Buffers.Values.Sum(t => t.Storage.Bytes);

    /// <summary>The storages of the named buffers, created as zeros like p on first use (fresh: the first name was just
    /// created); a null name is an unused slot. The array is cached for the same names, so a step allocates nothing.</summary>
    internal Storage?[] Bind(Tensor p, string?[] names, out bool fresh)
    {
        fresh = false;
        if (ReferenceEquals(names, _boundNames)) return _bound;
        var bound = new Storage?[names.Length];
        for (int k = 0; k < names.Length; k++)
        {
            if (names[k] is null) continue;
            if (!Buffers.TryGetValue(names[k]!, out var t))
            {
                Buffers[names[k]!] = t = new Tensor(p.Backend.Full(p.DType, p.Numel, 0), p.Shape).Keep();   // state outlives any Tensor.Scope
                if (k == 0) fresh = true;
            }
            bound[k] = t.Storage;
        }
        (_boundNames, _bound) = (names, bound);
        return bound;
    }

    /// <summary>Whether some buffer is not on p's backend (p moved since they were made). No allocation: runs every step.</summary>
    internal bool IsElsewhere(Tensor p)
    {
        foreach (var t in Buffers.Values)
            if (!ReferenceEquals(t.Backend, p.Backend)) return true;
        return false;
    }

    /// <summary>Moves the buffers to p's device.</summary>
    internal void FollowDevice(Tensor p)
    {
        foreach (var (k, t) in Buffers.ToList()) Buffers[k] = Upload(p, p.DType == DType.Float32 ? t.ToArray() : t.ToDoubleArray());
        _boundNames = null;
    }

    /// <summary>A tensor like p (same backend, dtype, shape) holding a host array's values; state, so it outlives any Tensor.Scope.</summary>
    internal static Tensor Upload(Tensor p, Array a) => new Tensor(a switch
    {
        float[] f when p.DType == DType.Float32 => p.Backend.FromArray(f),
        float[] f => p.Backend.FromArray(Array.ConvertAll(f, x => (double)x)),
        double[] d when p.DType == DType.Float32 => p.Backend.FromArray(Array.ConvertAll(d, x => (float)x)),
        _ => p.Backend.FromArray((double[])a),
    }, p.Shape).Keep();
}

/// <summary>A serialisable snapshot of an optimizer: per-parameter state (by position) and the groups.</summary>
public sealed class OptimizerStateDict
{
    /// <summary>The state of every parameter that has one, each tagged with its position among all groups' parameters.</summary>
    public List<ParamStateEntry> State { get; set; } = [];
    /// <summary>The param groups, in order.</summary>
    public List<GroupEntry> Groups { get; set; } = [];

    /// <summary>One parameter's state.</summary>
    public sealed class ParamStateEntry
    {
        /// <summary>Position of the parameter among all groups' parameters, counting from 0.</summary>
        public int Param { get; set; }
        /// <summary>Steps the optimizer has taken on this parameter.</summary>
        public long Step { get; set; }
        /// <summary>Whether the parameter (and so its buffers) is float32; the buffers are stored as double either way.</summary>
        public bool Float32 { get; set; }
        /// <summary>The state tensors by the reference's names (exp_avg, ...), flattened, as double.</summary>
        public Dictionary<string, double[]> Buffers { get; set; } = [];
        /// <summary>Named scalar state kept beside the buffers, by the reference's names.</summary>
        public Dictionary<string, double> Scalars { get; set; } = [];
    }

    /// <summary>One param group.</summary>
    public sealed class GroupEntry
    {
        /// <summary>Positions of the group's parameters among all groups' parameters.</summary>
        public List<int> Params { get; set; } = [];
        /// <summary>The group's options (serialised with the optimizer's name as "type").</summary>
        public OptimizerOptions Options { get; set; } = null!;
        /// <summary>The group's lr when its optimizer was built.</summary>
        public double InitialLr { get; set; }
        /// <summary>Named scalar state kept beside the buffers, by the reference's names.</summary>
        public Dictionary<string, double> Scalars { get; set; } = [];
    }
}

/// <summary>Base of every optimizer: `opt.ZeroGrad(); loss.Backward(); opt.Step();`.</summary>
public abstract class Optimizer
{
    private readonly List<ParamGroup> _groups = [];
    private readonly Dictionary<Tensor, ParamState> _state = new(ReferenceEqualityComparer.Instance);

    private protected Optimizer(IEnumerable<ParamGroup> groups)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var g in groups)
        {
            g.Options.Validate();
            foreach (var p in g.Params)
            {
                if (p.DType != DType.Float32 && p.DType != DType.Float64)
                    throw new ArgumentException($"{GetType().Name}: parameter {p.Name} has dtype {p.DType}; only float32 and float64 are supported", "params");
                if (!seen.Add(p))
                    throw new ArgumentException("some parameters appear in more than one parameter group", "params");
            }
            _groups.Add(g);
        }
        if (_groups.Count == 0 || _groups.All(g => g.Params.Count == 0))
            throw new ArgumentException("optimizer got an empty parameter list", "params");
    }

    /// <summary>The param groups, in the order given to the constructor.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>The first group's lr (get), or every group's lr (set).</summary>
    public double Lr
    {
        get => _groups[0].Lr;
        set { foreach (var g in _groups) g.Lr = value; }
    }

    /// <summary>Bytes of optimizer state held now.</summary>
    public virtual long StateBytes => _state.Values.Sum(s => s.Bytes);

    /// <summary>The state of p (null before its first step).</summary>
    public virtual ParamState? StateOf(Tensor p) => _state.GetValueOrDefault(p);

    /// <summary>
    /// Puts the parameters at the point to train at (the one the gradient is taken at). Optimizers that train at one
    /// point and evaluate at another (schedule-free) move them back from <see cref="Eval"/>'s point; a no-op for every
    /// other optimizer. A fresh optimizer is in train mode.
    /// </summary>
    public virtual void Train() { }

    /// <summary>
    /// Puts the parameters at the point to evaluate at: call it before evaluating or saving a checkpoint, and
    /// <see cref="Train"/> before the next <see cref="Step"/>. Schedule-free optimizers move the parameters to their
    /// averaged point x; a no-op for every other optimizer.
    /// </summary>
    public virtual void Eval() { }

    /// <summary>Zeroes every gradient in place (PyTorch 1.13's default, set_to_none = false).</summary>
    public void ZeroGrad()
    {
        foreach (var g in _groups)
            foreach (var p in g.Params)
                p.Grad?.ZeroInPlace();
    }

    /// <summary>The recorder watching this optimizer's steps (null, the default: a step costs nothing more).</summary>
    internal InternalsRecorder? Recorder { get; set; }

    /// <summary>One update of every parameter that has a gradient (and, when an <see cref="InternalsRecorder"/> watches
    /// this optimizer and this is one of its recorded updates, the internals of the update).</summary>
    public void Step()
    {
        var recorder = Recorder;
        if (recorder is null || !recorder.Before()) { StepCore(); return; }
        StepCore();
        recorder.After();
    }

    /// <summary>What <see cref="Step"/> does: one update of every parameter that has a gradient.</summary>
    private protected virtual void StepCore()
    {
        using var _ = Tensor.NoGrad();
        foreach (var group in _groups)
        {
            BeginGroup(group);
            for (int i = 0; i < group.Params.Count; i++)   // indexed: foreach over the IReadOnlyList would box its enumerator every step
            {
                var p = group.Params[i];
                var grad = p.Grad;
                if (grad is null) continue;
                if (grad.Numel != p.Numel || grad.DType != p.DType)
                    throw new InvalidOperationException($"{GetType().Name}.Step: grad {grad.Shape} {grad.DType} does not match param {p.Shape} {p.DType}");
                if (!_state.TryGetValue(p, out var state)) _state[p] = state = new ParamState();
                Update(p, grad, group, state);
                p.MarkModified();
            }
        }
    }

    /// <summary>Once per <see cref="Step"/> and group, before its parameters' updates, whether or not they have
    /// gradients: where a reference updates its group-level scalars (<see cref="ParamGroup.Scalars"/>).</summary>
    private protected virtual void BeginGroup(ParamGroup group) { }

    private protected abstract void Update(Tensor p, Tensor grad, ParamGroup group, ParamState state);

    /// <summary>Adds what this optimizer declares of itself for one parameter right after a recorded step (its state,
    /// the gradient, the update: <see cref="InternalsProbe"/>); nothing beyond the recorder's generic metrics by default.</summary>
    internal virtual void Internals(InternalsProbe probe) { }

    private IEnumerable<Tensor> AllParams => _groups.SelectMany(g => g.Params);

    /// <summary>A deep copy of the state (buffers as double arrays) and of the groups' options.</summary>
    public virtual OptimizerStateDict StateDict()
    {
        var d = new OptimizerStateDict();
        int i = 0;
        foreach (var group in _groups)
        {
            var e = new OptimizerStateDict.GroupEntry { Options = group.Options, InitialLr = group.InitialLr, Scalars = new(group.Scalars) };
            foreach (var p in group.Params)
            {
                e.Params.Add(i);
                if (_state.TryGetValue(p, out var s))
                {
                    var pe = new OptimizerStateDict.ParamStateEntry { Param = i, Step = s.Step, Float32 = p.DType == DType.Float32 };
                    foreach (var (k, t) in s.Buffers) pe.Buffers[k] = t.ToDoubleArray();   // a copy (via the host)
                    foreach (var (k, x) in s.Scalars) pe.Scalars[k] = x;
                    d.State.Add(pe);
                }
                i++;
            }
            d.Groups.Add(e);
        }
        return d;
    }

    /// <summary>Restores a StateDict of an optimizer of the same type over the same parameter layout.</summary>
    public virtual void LoadStateDict(OptimizerStateDict d)
    {
        if (d.Groups.Count != _groups.Count)
            throw new ArgumentException($"loaded state dict has {d.Groups.Count} parameter groups, the optimizer has {_groups.Count}", nameof(d));
        for (int k = 0; k < _groups.Count; k++)
        {
            if (d.Groups[k].Params.Count != _groups[k].Params.Count)
                throw new ArgumentException($"loaded state dict group {k} has {d.Groups[k].Params.Count} parameters, the optimizer's has {_groups[k].Params.Count}", nameof(d));
            if (d.Groups[k].Options.GetType() != _groups[k].Options.GetType())
                throw new ArgumentException($"loaded state dict holds {d.Groups[k].Options.GetType().Name}, the optimizer uses {_groups[k].Options.GetType().Name}", nameof(d));
        }
        var ps = AllParams.ToList();
        _state.Clear();
        for (int k = 0; k < _groups.Count; k++)
        {
            _groups[k].Options = d.Groups[k].Options;
            _groups[k].InitialLr = d.Groups[k].InitialLr;
            _groups[k].Scalars.Clear();
            foreach (var (key, x) in d.Groups[k].Scalars) _groups[k].Scalars[key] = x;
        }
        foreach (var e in d.State)
        {
            var p = ps[e.Param];
            var s = new ParamState { Step = e.Step };
            foreach (var (k, a) in e.Buffers)
            {
                if (a.Length != p.Numel) throw new ArgumentException($"state buffer {k} of param {e.Param} has {a.Length} values, the param {p.Numel}", nameof(d));
                s.Buffers[k] = ParamState.Upload(p, a);
            }
            foreach (var (k, x) in e.Scalars) s.Scalars[k] = x;
            _state[p] = s;
        }
    }
}

/// <summary>An optimizer whose groups carry TOptions; the subclass writes Update&lt;T&gt; for one tensor.</summary>
public abstract class Optimizer<TOptions> : Optimizer where TOptions : OptimizerOptions
{
    /// <summary>Builds the groups from defaults, each changed by its GroupSpec's Override, and validates every group's options.</summary>
    protected Optimizer(IEnumerable<GroupSpec<TOptions>> groups, TOptions defaults)
        : base(groups.Select(g => new ParamGroup(g.Params.ToList(), g.Override?.Invoke(defaults) ?? defaults)).ToList())
    {
        Defaults = defaults;
    }

    /// <summary>The constructor's options, which every group starts from.</summary>
    public TOptions Defaults { get; }

    private protected sealed override void Update(Tensor p, Tensor grad, ParamGroup group, ParamState state)
    {
        var o = (TOptions)group.Options;
        if (grad.Device != p.Device)
            throw new InvalidOperationException($"{GetType().Name}.Step: grad on {grad.Device}, param {p.Name} on {p.Device}");
        if (state.IsElsewhere(p)) state.FollowDevice(p);   // the parameter moved since its state was made
        if (p.DType == DType.Float32) Update<float>(p, grad, o, group, state);
        else Update<double>(p, grad, o, group, state);
    }

    internal sealed override void Internals(InternalsProbe probe) => Internals(probe, (TOptions)probe.Group.Options);

    /// <summary>This optimizer's own internals of one parameter after a recorded step, with its group's options.</summary>
    private protected virtual void Internals(InternalsProbe probe, TOptions o) { }

    /// <summary>One step of one parameter: advance the state's counters, compute this step's constants in double and
    /// round them to T (torch casts Python scalars to the tensor's dtype), then <see cref="Fuse"/> the update.</summary>
    private protected abstract void Update<T>(Tensor p, Tensor grad, TOptions o, ParamGroup group, ParamState state)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The state buffers called names (zeros on first use; fresh: the first was just created).</summary>
    private protected static Storage?[] State(Tensor p, ParamState state, string?[] names, out bool fresh) => state.Bind(p, names, out fresh);

    /// <summary>Runs the update map over p (in place), its gradient and the bound state buffers on p's backend: one
    /// SIMD pass on the CPU, one kernel on a GPU.</summary>
    private protected static void Fuse<TMap, T>(in TMap map, Tensor p, Tensor grad, Storage?[] state, PrePass pre = PrePass.None)
        where TMap : unmanaged, IFusedMap<TMap, T> where T : unmanaged, IFloatingPointIeee754<T> =>
        p.Backend.FusedMap<TMap, T>(map, p.Storage, grad.Storage, state, pre);

    /// <summary>A double scalar rounded to T (torch casts Python scalars to the tensor's dtype).</summary>
    protected static T C<T>(double x) where T : IFloatingPointIeee754<T> => T.CreateTruncating(x);
}
