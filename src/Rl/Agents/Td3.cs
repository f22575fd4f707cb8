// TD3 (Fujimoto et al. 2018) after CleanRL's td3_continuous_action.py: a deterministic actor, twin critics
// trained on the smaller target Q with clipped target-policy noise, delayed actor updates and soft (Polyak)
// target updates; exploration by Gaussian noise (CleanRL) or Stable-Baselines3's Ornstein-Uhlenbeck noise. Reads top
// to bottom in Train().
using System.ComponentModel;
using System.Text.Json.Nodes;
using Tiny.Nn;
using Tiny.Optim;

namespace Tiny.Rl;

/// <summary>TD3 hyperparameters; defaults are CleanRL td3_continuous_action.py's, <see cref="ForPendulum"/> is rl-zoo's.</summary>
public sealed record Td3Options
{
    /// <summary>Environment steps to train for.</summary>
    [Description("Environment steps to train for.")]
    public long TotalTimesteps { get; init; } = 1_000_000;
    /// <summary>Learning rate of actor and critics (used when the optimizer spec gives none).</summary>
    [Description("Learning rate of actor and critics (used when the optimizer spec gives none).")]
    public double LearningRate { get; init; } = 3e-4;
    /// <summary>Replay buffer capacity in transitions.</summary>
    [Description("Replay buffer capacity in transitions.")]
    public int BufferSize { get; init; } = 1_000_000;
    /// <summary>Discount factor.</summary>
    [Description("Discount factor.")]
    public double Gamma { get; init; } = 0.99;
    /// <summary>Polyak rate of the target networks: target = tau * online + (1 - tau) * target.</summary>
    [Description("Polyak rate of the target networks: target = tau * online + (1 - tau) * target.")]
    public double Tau { get; init; } = 0.005;
    /// <summary>Transitions per gradient step.</summary>
    [Description("Transitions per gradient step.")]
    public int BatchSize { get; init; } = 256;
    /// <summary>Std of the target-policy smoothing noise, in units of the action scale.</summary>
    [Description("Std of the target-policy smoothing noise, in units of the action scale.")]
    public double PolicyNoise { get; init; } = 0.2;
    /// <summary>Clip of the target-policy smoothing noise, in units of the action scale.</summary>
    [Description("Clip of the target-policy smoothing noise, in units of the action scale.")]
    public double NoiseClip { get; init; } = 0.5;
    /// <summary>Exploration noise scale in units of the action scale: the std of the Gaussian noise, or the sigma of
    /// the Ornstein-Uhlenbeck process (<see cref="NoiseType"/>).</summary>
    [Description("Exploration noise scale in units of the action scale: the Gaussian's std, or the Ornstein-Uhlenbeck process's sigma.")]
    public double ExplorationNoise { get; init; } = 0.1;
    /// <summary>
    /// Exploration noise added to mu(s) (then clipped to the action bounds): "normal" (CleanRL), independent
    /// N(0, (explorationNoise * scale)^2) each step, after learningStarts only; or "ornstein-uhlenbeck" (Stable-Baselines3's
    /// OrnsteinUhlenbeckActionNoise, <see cref="OrnsteinUhlenbeckNoise"/>), x += ouTheta * (0 - x) * ouDt +
    /// explorationNoise * sqrt(ouDt) * N(0, 1), reset to 0 when an episode ends, temporally correlated (lag-1
    /// correlation 1 - ouTheta * ouDt); as in SB3 it also perturbs the uniform actions before learningStarts.
    /// </summary>
    [Description("Exploration noise: normal (CleanRL, independent Gaussian) or ornstein-uhlenbeck (Stable-Baselines3's, correlated in time, reset each episode).")]
    public string NoiseType { get; init; } = "normal";
    /// <summary>Mean-reversion rate theta of the Ornstein-Uhlenbeck noise (SB3's default 0.15).</summary>
    [Description("Mean-reversion rate theta of the Ornstein-Uhlenbeck noise (Stable-Baselines3's 0.15).")]
    public double OuTheta { get; init; } = 0.15;
    /// <summary>Time step dt of the Ornstein-Uhlenbeck noise (SB3's default 0.01).</summary>
    [Description("Time step dt of the Ornstein-Uhlenbeck noise (Stable-Baselines3's 0.01).")]
    public double OuDt { get; init; } = 1e-2;
    /// <summary>Steps of uniform random actions before learning starts.</summary>
    [Description("Steps of uniform random actions before learning starts.")]
    public int LearningStarts { get; init; } = 25_000;
    /// <summary>Critic updates per actor (and target) update: the policy delay.</summary>
    [Description("Critic updates per actor (and target) update: the policy delay.")]
    public int PolicyFrequency { get; init; } = 2;
    /// <summary>Hidden layer sizes of the actor (ReLU; tanh * scale + bias on the output).</summary>
    [Description("Hidden layer sizes of the actor (ReLU; tanh * scale + bias on the output).")]
    public int[] ActorHiddenSizes { get; init; } = [256, 256];
    /// <summary>Hidden layer sizes of each critic (ReLU), input obs ++ action.</summary>
    [Description("Hidden layer sizes of each critic (ReLU), input obs ++ action.")]
    public int[] CriticHiddenSizes { get; init; } = [256, 256];
    /// <summary>Seed of every random number (network init, noise, sampling, env resets).</summary>
    [Description("Seed of every random number (network init, noise, sampling, env resets).")]
    public int Seed { get; init; } = 1;
    /// <summary>Network kind: auto or mlp (ReLU MLPs of <see cref="ActorHiddenSizes"/> and <see cref="CriticHiddenSizes"/>),
    /// or the name of a network registered with <see cref="Tiny.Rl.Networks.Register"/> (its factory builds the actor, both
    /// critics and their targets); <see cref="Td3.Options"/> holds the resolved kind ("custom": a factory passed to the constructor).</summary>
    [Description("Network kind: auto or mlp (ReLU MLPs of the hidden sizes), or a registered network's name.")]
    public string Net { get; init; } = "auto";

    /// <summary>Throws ArgumentException naming the first option out of its range (and the range).</summary>
    public void Validate()
    {
        void Check(bool ok, string what) => OffPolicy.Check(ok, "td3", what);
        Check(TotalTimesteps > 0, $"totalTimesteps must be positive, got {TotalTimesteps}");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), $"learningRate must be positive, got {LearningRate}");
        Check(BufferSize > 0, $"bufferSize must be positive, got {BufferSize}");
        Check(Gamma is >= 0 and <= 1, $"gamma must be in [0, 1], got {Gamma}");
        Check(Tau is > 0 and <= 1, $"tau must be in (0, 1], got {Tau}");
        Check(BatchSize > 0, $"batchSize must be positive, got {BatchSize}");
        Check(PolicyNoise >= 0, $"policyNoise must be >= 0, got {PolicyNoise}");
        Check(NoiseClip >= 0, $"noiseClip must be >= 0, got {NoiseClip}");
        Check(ExplorationNoise >= 0 && double.IsFinite(ExplorationNoise), $"explorationNoise must be >= 0, got {ExplorationNoise}");
        Check(NoiseType is "normal" or "ornstein-uhlenbeck", $"noiseType must be normal or ornstein-uhlenbeck, got '{NoiseType}'");
        Check(OuTheta > 0 && double.IsFinite(OuTheta), $"ouTheta must be positive, got {OuTheta}");
        Check(OuDt > 0 && double.IsFinite(OuDt), $"ouDt must be positive, got {OuDt}");
        Check(LearningStarts >= 0, $"learningStarts must be >= 0, got {LearningStarts}");
        Check(PolicyFrequency > 0, $"policyFrequency must be positive, got {PolicyFrequency}");
        Check(ActorHiddenSizes.Length > 0 && ActorHiddenSizes.All(h => h > 0), $"actorHiddenSizes must be positive sizes, got [{string.Join(", ", ActorHiddenSizes)}]");
        Check(CriticHiddenSizes.Length > 0 && CriticHiddenSizes.All(h => h > 0), $"criticHiddenSizes must be positive sizes, got [{string.Join(", ", CriticHiddenSizes)}]");
        Check(!string.IsNullOrWhiteSpace(Net), "net must name a network (auto, mlp or a registered one)");
    }

    /// <summary>
    /// rl-baselines3-zoo's tuned TD3 for Pendulum-v1: 20k steps, gamma 0.98, 10k random steps, lr 1e-3, 400-300
    /// nets, buffer 200k, exploration std 0.1 of the action scale.
    /// </summary>
    public static Td3Options ForPendulum => new()
    {
        TotalTimesteps = 20_000, Gamma = 0.98, LearningStarts = 10_000, LearningRate = 1e-3,
        BufferSize = 200_000, ExplorationNoise = 0.1, ActorHiddenSizes = [400, 300], CriticHiddenSizes = [400, 300],
    };
}

/// <summary>Twin Delayed DDPG for Box action spaces.</summary>
public sealed class Td3 : IAgent
{
    private readonly Module _actor, _qf1, _qf2, _actorTarget, _qf1Target, _qf2Target;
    private Tensor _actionScale, _actionBias;
    private readonly float[] _low, _high, _scale;
    private readonly Rng _rng;
    private readonly int _obsDim, _actDim;

    /// <summary>
    /// Builds actor, twin critics and their targets for envId (a Box action space); optimizer null = Adam at
    /// options.LearningRate. network: a factory of the user's networks (role "actor": obs [B, obsDim] to [B, actDim],
    /// before tanh * scale + bias; role "critic": obs ++ action [B, obsDim + actDim] to Q [B, 1]), called for the actor,
    /// qf1, qf2, then each target, into which the online values are copied; sizes checked before training. It overrides
    /// options.Net; without it options.Net picks the built-in MLPs or a registered network.
    /// </summary>
    public Td3(string envId, Td3Options options, OptimizerSpec? optimizer = null, Func<NetworkContext, Module>? network = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(envId);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        EnvId = envId;
        Optimizer = optimizer ?? Agents.DefaultOptimizer(Algorithm);
        Optimizer.Validate();
        using var env = Env.Make(envId);
        if (env.ActionSpace is not Box act) throw new ArgumentException($"TD3 needs a Box action space; {envId} has {env.ActionSpace}");
        if (env.ObservationSpace is not Box box) throw new ArgumentException($"TD3 needs a Box observation space; {envId} has {env.ObservationSpace}");
        _obsDim = box.Shape.Aggregate(1, (a, b) => a * b);
        _actDim = act.Shape.Aggregate(1, (a, b) => a * b);
        OffPolicy.CheckBudget("td3", options.TotalTimesteps, options.LearningStarts, options.BufferSize, options.BatchSize, _obsDim, _actDim);
        _low = act.Low; _high = act.High;
        var scale = new float[_actDim]; var bias = new float[_actDim];
        for (int i = 0; i < _actDim; i++) { scale[i] = (_high[i] - _low[i]) / 2f; bias[i] = (_high[i] + _low[i]) / 2f; }
        _scale = scale;
        _actionScale = Tensor.FromArray(scale, _actDim);
        _actionBias = Tensor.FromArray(bias, _actDim);

        _rng = new Rng(options.Seed);
        ActionRng = new Rng(options.Seed).Fork();
        // config.json records the kind: mlp, a registered network's name, or "custom" for a factory passed here.
        string net = network is not null ? Tiny.Rl.Networks.InCode
            : Tiny.Rl.Networks.IsRegistered(options.Net) ? options.Net
            : options.Net.ToLowerInvariant() is "auto" or "mlp" ? "mlp"
            : throw new ArgumentException(options.Net.Equals("cnn", StringComparison.OrdinalIgnoreCase)
                ? $"td3: net 'cnn' is not built in for td3 (its actor and critics are MLPs); register a network of your own (Networks.Register) and name it"
                : Tiny.Rl.Networks.UnknownMessage(options.Net));
        Options = options with { Net = net };
        if (net == "mlp")
        {
            int[] actorSizes = [_obsDim, .. options.ActorHiddenSizes, _actDim];
            int[] criticSizes = [_obsDim + _actDim, .. options.CriticHiddenSizes, 1];
            _actor = Mlp.Create(actorSizes, () => new ReLU(), _rng);
            _qf1 = Mlp.Create(criticSizes, () => new ReLU(), _rng);
            _qf2 = Mlp.Create(criticSizes, () => new ReLU(), _rng);
            _actorTarget = Mlp.Create(actorSizes, () => new ReLU(), _rng);
            _qf1Target = Mlp.Create(criticSizes, () => new ReLU(), _rng);
            _qf2Target = Mlp.Create(criticSizes, () => new ReLU(), _rng);
            _actorTarget.CopyFrom(_actor);
            _qf1Target.CopyFrom(_qf1);
            _qf2Target.CopyFrom(_qf2);
            return;
        }
        string label = network is null ? $"net '{net}'" : "the factory passed to Td3";
        network ??= Tiny.Rl.Networks.Factory(net);
        NetworkContext Ctx(string role, string name) =>
            role == "actor" ? new(Algorithm, role, name, envId, box, act, _obsDim, _actDim, _rng)
                            : new(Algorithm, role, name, envId, box, act, _obsDim + _actDim, 1, _rng);
        _actor = Tiny.Rl.Networks.Build(network, Ctx("actor", "actor"), label);
        _qf1 = Tiny.Rl.Networks.Build(network, Ctx("critic", "qf1"), label);
        _qf2 = Tiny.Rl.Networks.Build(network, Ctx("critic", "qf2"), label);
        _actorTarget = Tiny.Rl.Networks.Copy(network, Ctx("actor", "actor_target"), label, _actor);
        _qf1Target = Tiny.Rl.Networks.Copy(network, Ctx("critic", "qf1_target"), label, _qf1);
        _qf2Target = Tiny.Rl.Networks.Copy(network, Ctx("critic", "qf2_target"), label, _qf2);
        Tiny.Rl.Networks.CheckDistinct(Algorithm, [("actor", _actor), ("qf1", _qf1), ("qf2", _qf2), ("actor_target", _actorTarget), ("qf1_target", _qf1Target), ("qf2_target", _qf2Target)]);
    }

    /// <inheritdoc/>
    public string Algorithm => "td3";
    /// <inheritdoc/>
    public string EnvId { get; }
    /// <summary>The hyperparameters.</summary>
    public Td3Options Options { get; }
    /// <summary>The optimizer spec (one optimizer for the actor, one over both critics).</summary>
    public OptimizerSpec Optimizer { get; }
    /// <summary>The actor's MLP (before tanh * scale + bias).</summary>
    public Module Actor => _actor;

    /// <inheritdoc/>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters() =>
        _actor.NamedParameters("actor.").Concat(_qf1.NamedParameters("qf1.")).Concat(_qf2.NamedParameters("qf2."));
    /// <summary>All six networks: actor, qf1, qf2, then their targets.</summary>
    public IReadOnlyList<Module> Networks => [_actor, _qf1, _qf2, _actorTarget, _qf1Target, _qf2Target];
    /// <summary>Where the networks, losses and updates run (envs and the replay buffer stay on the CPU).</summary>
    public Device Device { get; private set; } = Device.Cpu;

    /// <summary>The generator a stochastic <see cref="Act(ReadOnlySpan{float}, double, Rng?)"/> draws from when given
    /// none: seeded from options.Seed, apart from training's streams (acting never changes a run), restarted by Load.</summary>
    public Rng ActionRng { get; }

    /// <summary>Moves actor, critics, their targets and the action scale/bias to device; Train then uploads each sampled batch there.</summary>
    public Td3 To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        foreach (var m in Networks) m.To(device);
        _actionScale = _actionScale.To(device);
        _actionBias = _actionBias.To(device);
        Device = device;
        return this;
    }

    IAgent IAgent.To(Device device) => To(device);

    // mu(s) = tanh(actor(s)) * scale + bias
    private Tensor Mu(Module actor, Tensor obs) => actor.Forward(obs).Tanh() * _actionScale + _actionBias;

    private static Tensor Q(Module critic, Tensor obs, Tensor action) => critic.Forward(Tensor.Cat([obs, action], 1));

    /// <summary>A training run in progress: what continues from one Train call (or checkpoint) to the next.</summary>
    private sealed class Session(Rng root, SyncVectorEnv envs, Optimizer actorOptimizer, Optimizer qOptimizer, ReplayBuffer rb, int obsDim)
        : OffPolicySession(root, envs, rb, obsDim)
    {
        public Optimizer ActorOptimizer { get; } = actorOptimizer;
        public Optimizer QOptimizer { get; } = qOptimizer;
        public double? QfLoss { get; set; }      // null until computed (a NaN loss is logged as NaN)
        public double? ActorLoss { get; set; }
        public double? QValues { get; set; }
        /// <summary>The exploration noise's process when it has a state (Ornstein-Uhlenbeck), else null.</summary>
        public OrnsteinUhlenbeckNoise? Ou { get; init; }
        public override (string Name, Optimizer Optimizer)[] Optimizers => [("actor_optimizer", ActorOptimizer), ("q_optimizer", QOptimizer)];
    }

    private Session? _session;

    private Session NewSession(bool reset)
    {
        var o = Options;
        var s = new Session(_rng, new SyncVectorEnv(_ => Env.Make(EnvId), 1, AutoresetMode.SameStep),
                            Optimizer.Create(_actor.Parameters(), o.LearningRate), Optimizer.Create(_qf1.Parameters().Concat(_qf2.Parameters()), o.LearningRate),
                            new ReplayBuffer(Math.Min(o.BufferSize, (int)Math.Min(int.MaxValue, Math.Max(1, o.TotalTimesteps))), _obsDim, _actDim, o.BatchSize), _obsDim)
        {
            Ou = o.NoiseType == "ornstein-uhlenbeck" ? new OrnsteinUhlenbeckNoise(_scale.Select(sc => o.ExplorationNoise * sc).ToArray(), o.OuTheta, o.OuDt) : null,
        };
        if (reset) s.Reset();
        return s;
    }

    /// <inheritdoc/>
    public long GlobalStep => _session?.Step ?? 0;

    /// <inheritdoc/>
    public IReadOnlyList<KeyValuePair<string, Optimizer>> Optimizers
    {
        get
        {
            var s = _session ??= NewSession(reset: true);
            return [new("actor_optimizer", s.ActorOptimizer), new("q_optimizer", s.QOptimizer)];
        }
    }

    /// <inheritdoc/>
    public bool Finished => GlobalStep >= Options.TotalTimesteps;

    /// <inheritdoc/>
    public void Train(Action<ProgressInfo>? progress = null, CancellationToken ct = default, Action<long>? boundary = null)
    {
        var o = Options;
        var session = _session ??= NewSession(reset: true);
        var (noiseRng, sampleRng, envs, actorOptimizer, qOptimizer, rb, obs) =
            (session.ActRng, session.SampleRng, session.Envs, session.ActorOptimizer, session.QOptimizer, session.Buffer, session.Obs);
        if (session.EvalMode) { actorOptimizer.Train(); qOptimizer.Train(); session.EvalMode = false; }
        List<Tensor> P(Module m) => m.Parameters().ToList();
        var (actorP, qf1P, qf2P) = (P(_actor), P(_qf1), P(_qf2));
        var (actorTP, qf1TP, qf2TP) = (P(_actorTarget), P(_qf1Target), P(_qf2Target));

        // Reused batch tensors and arrays.
        Tensor Z(params int[] shape) => Tensor.Zeros(shape, DType.Float32, Device);
        var obsT = Z(o.BatchSize, _obsDim);
        var nextObsT = Z(o.BatchSize, _obsDim);
        var actionsT = Z(o.BatchSize, _actDim);
        var rewardsT = Z(o.BatchSize, 1);
        var terminatedT = Z(o.BatchSize, 1);
        var noiseT = Z(o.BatchSize, _actDim);
        var noise = new float[o.BatchSize * _actDim];
        var oneObs = Z(1, _obsDim);
        var nextObs = new float[_obsDim];
        var action = new float[_actDim];
        var ou = session.Ou;
        var ouNoise = new double[_actDim];

        // The iterator section runs after every step, also after `continue`: a checkpoint there resumes exactly.
        for (; session.Step < o.TotalTimesteps && !ct.IsCancellationRequested; boundary?.Invoke(session.Step))
        {
            long globalStep = session.Step;
            using var memory = Tensor.Scope();   // this step's tensors go back to a pool at the end of the iteration
            // 1. Action: uniform random before learningStarts, then mu(s); plus the exploration noise (in units of the
            // action scale), clipped: Gaussian N(0, explorationNoise * scale) after learningStarts, or the next value of
            // the Ornstein-Uhlenbeck process at every step (SB3 perturbs its warm-up actions too).
            if (globalStep < o.LearningStarts)
                for (int i = 0; i < _actDim; i++) action[i] = (float)noiseRng.Uniform(_low[i], _high[i]);
            else
                using (Tensor.NoGrad()) OffPolicy.Host(Mu(_actor, OffPolicy.Fill(oneObs, obs))).CopyTo(action);
            if (ou is not null)
            {
                ou.Next(noiseRng, ouNoise);
                for (int i = 0; i < _actDim; i++) action[i] = Math.Clamp(action[i] + (float)ouNoise[i], _low[i], _high[i]);
            }
            else if (globalStep >= o.LearningStarts)
                for (int i = 0; i < _actDim; i++)
                {
                    float scale = _scale[i];
                    action[i] = Math.Clamp(action[i] + (float)(noiseRng.NextNormal() * scale * o.ExplorationNoise), _low[i], _high[i]);
                }

            // 2. Step; the true next obs of a finished episode is FinalObservations (truncation is not termination).
            envs.Step(action);
            session.Step++;   // env steps taken: what GlobalStep (the internals' clock) and metrics.csv (globalStep + 1) count
            (envs.FinalObservations[0] ?? envs.Observations).AsSpan(0, _obsDim).CopyTo(nextObs);
            rb.Add(obs, action, (float)envs.Rewards[0], nextObs, envs.Terminated[0]);
            envs.Observations.AsSpan(0, _obsDim).CopyTo(obs);
            if (envs.FinishedEpisodes[0] is not null) ou?.Reset();   // a new episode's noise starts from 0 (terminated or truncated)

            if (envs.FinishedEpisodes[0] is EpisodeInfo ep && progress is not null)
                progress(new ProgressInfo(globalStep + 1, o.TotalTimesteps, ep.Return, ep.Length, Metrics(session.QfLoss, session.ActorLoss, session.QValues), actorOptimizer.Lr));

            if (globalStep <= o.LearningStarts) continue;

            // 3. Critics: y = r + gamma * (1 - terminated) * min_i Q_i'(s', clip(mu'(s') + clip(eps, -c, c) * scale)).
            rb.Sample(sampleRng);
            OffPolicy.Fill(obsT, rb.BatchObs);
            OffPolicy.Fill(nextObsT, rb.BatchNextObs);
            OffPolicy.Fill(actionsT, rb.BatchActions);
            OffPolicy.Fill(rewardsT, rb.BatchRewards);
            OffPolicy.Fill(terminatedT, rb.BatchTerminated);
            Tensor nextQValue;
            using (Tensor.NoGrad())
            {
                for (int i = 0; i < noise.Length; i++)
                    noise[i] = (float)Math.Clamp(noiseRng.NextNormal() * o.PolicyNoise, -o.NoiseClip, o.NoiseClip);
                var clippedNoise = OffPolicy.Fill(noiseT, noise) * _actionScale;
                var nextStateActions = ClampActions(Mu(_actorTarget, nextObsT) + clippedNoise);
                var minQfNextTarget = Q(_qf1Target, nextObsT, nextStateActions).Minimum(Q(_qf2Target, nextObsT, nextStateActions));
                nextQValue = rewardsT + (1.0 - terminatedT) * o.Gamma * minQfNextTarget;
            }
            var qf1AValues = Q(_qf1, obsT, actionsT);
            var qf2AValues = Q(_qf2, obsT, actionsT);
            var qfLoss = F.MseLoss(qf1AValues, nextQValue) + F.MseLoss(qf2AValues, nextQValue);
            qOptimizer.ZeroGrad();
            qfLoss.Backward();
            qOptimizer.Step();

            // 4. Delayed actor: maximise Q1(s, mu(s)); then Polyak-average all three targets.
            if (globalStep % o.PolicyFrequency == 0)
            {
                var actorLoss = -Q(_qf1, obsT, Mu(_actor, obsT)).Mean();
                actorOptimizer.ZeroGrad();
                actorLoss.Backward();
                actorOptimizer.Step();

                OffPolicy.SoftUpdate(actorTP, actorP, o.Tau);
                OffPolicy.SoftUpdate(qf1TP, qf1P, o.Tau);
                OffPolicy.SoftUpdate(qf2TP, qf2P, o.Tau);

                if (globalStep % 100 == 0)
                {
                    session.QfLoss = qfLoss.Item() / 2;
                    session.ActorLoss = actorLoss.Item();
                    double s = 0; foreach (var v in OffPolicy.Host(qf1AValues)) s += v;
                    session.QValues = s / o.BatchSize;
                    progress?.Invoke(new ProgressInfo(globalStep + 1, o.TotalTimesteps, null, null, Metrics(session.QfLoss, session.ActorLoss, session.QValues), actorOptimizer.Lr));
                }
            }
        }
        // Schedule-free optimizers: the saved model and Act use the evaluation point (Eval is a no-op for the others).
        // A stopped run stays at the training point, so its checkpoint resumes exactly; Save moves it.
        if (session.Step >= o.TotalTimesteps) ToEvalPoint();
    }

    private void ToEvalPoint()
    {
        if (_session is { EvalMode: false } s) { s.ActorOptimizer.Eval(); s.QOptimizer.Eval(); s.EvalMode = true; }
    }

    private Tensor ClampActions(Tensor a)
    {
        // Per-dimension bounds; all Gymnasium Box action spaces used here share one bound, so clamp by the widest.
        float lo = _low.Min(), hi = _high.Max();
        return a.Clamp(lo, hi);
    }

    private static Dictionary<string, double> Metrics(double? qfLoss, double? actorLoss, double? qValues)
    {
        var m = new Dictionary<string, double>();
        if (qfLoss is double q) { m["qf_loss"] = q; m["td_loss"] = q; m["q_values"] = qValues!.Value; }
        if (actorLoss is double a) m["actor_loss"] = a;
        return m;
    }

    /// <inheritdoc/>
    public float[] Act(ReadOnlySpan<float> observation) => Act(observation, noise: 0);

    /// <summary>Deterministic: mu(s); stochastic: with the exploration noise of training (options' explorationNoise),
    /// see <see cref="Act(ReadOnlySpan{float}, double, Rng?)"/>; for a run with Ornstein-Uhlenbeck noise, Gaussian
    /// noise of std explorationNoise (a call keeps no process state from one observation to the next).</summary>
    public float[] Act(ReadOnlySpan<float> observation, bool deterministic, Rng? rng = null) =>
        Act(observation, deterministic ? 0 : Options.ExplorationNoise, rng);

    /// <summary>As training explores: mu(s) = tanh(actor(s)) * scale + bias, plus N(0, (noise * scale_i)^2) per
    /// dimension from rng (null: <see cref="ActionRng"/>), clipped to the action bounds. Noise 0 draws nothing.</summary>
    public float[] Act(ReadOnlySpan<float> observation, double noise, Rng? rng = null)
    {
        if (observation.Length != _obsDim) throw new ArgumentException($"TD3.Act: expected {_obsDim} floats, got {observation.Length}");
        if (!(noise >= 0 && double.IsFinite(noise))) throw new ArgumentOutOfRangeException(nameof(noise), noise, "TD3.Act: the noise std must be finite and >= 0");
        float[] action;
        using (Tensor.NoGrad()) action = Mu(_actor, Tensor.FromArray(observation.ToArray(), [1, _obsDim], Device)).ToArray();
        if (noise > 0)
        {
            rng ??= ActionRng;
            for (int i = 0; i < _actDim; i++)
                action[i] = Math.Clamp(action[i] + (float)(rng.NextNormal() * _scale[i] * noise), _low[i], _high[i]);
        }
        return action;
    }

    private IEnumerable<KeyValuePair<string, Tensor>> Tensors() =>
        _actor.NamedParameters("actor.").Concat(_qf1.NamedParameters("qf1.")).Concat(_qf2.NamedParameters("qf2."))
            .Concat(_actorTarget.NamedParameters("actor_target.")).Concat(_qf1Target.NamedParameters("qf1_target."))
            .Concat(_qf2Target.NamedParameters("qf2_target."));

    /// <summary>DIR/model.safetensors (actor, critics and their targets) and DIR/config.json; the parameters of a
    /// schedule-free optimizer's run are moved to its evaluation point first.</summary>
    public void Save(string dir)
    {
        ToEvalPoint();
        Write(dir);
    }

    /// <inheritdoc/>
    public void SaveCheckpoint(string dir)
    {
        var s = _session ??= NewSession(reset: true);
        if (s.EvalMode) { s.ActorOptimizer.Train(); s.QOptimizer.Train(); s.EvalMode = false; }   // a finished schedule-free run: back to y (rounds)
        Write(dir);
        var w = s.Checkpoint(Algorithm);
        if (s.QfLoss is double q) w.Json["qf_loss"] = StateJson.Num(q);
        if (s.ActorLoss is double a) w.Json["actor_loss"] = StateJson.Num(a);
        if (s.QValues is double v) w.Json["q_values"] = StateJson.Num(v);
        if (s.Ou is { } ou) w.Json["ou_noise"] = StateJson.Nums(ou.State);
        w.Save(dir);
    }

    /// <inheritdoc/>
    public void LoadCheckpoint(string dir)
    {
        var s = NewSession(reset: false);
        var r = s.Restore(dir, Algorithm);
        double? Opt(string k) => r.Json.ContainsKey(k) ? StateJson.Double(r.Json, k) : null;
        (s.QfLoss, s.ActorLoss, s.QValues) = (Opt("qf_loss"), Opt("actor_loss"), Opt("q_values"));
        if (s.Ou is { } ou)
        {
            var x = StateJson.Doubles(r.Json, "ou_noise");
            if (x.Length != ou.State.Length) throw new InvalidDataException($"{dir}: the checkpoint's Ornstein-Uhlenbeck noise has {x.Length} values, the action {ou.State.Length}");
            x.CopyTo(ou.State, 0);
        }
        _session = s;
    }

    private void Write(string dir) =>
        OffPolicy.SaveModel(dir, Tensors(), new JsonObject
        {
            ["algorithm"] = Algorithm,
            ["envId"] = EnvId,
            ["options"] = OffPolicy.OptionsToJson(Options),
            ["optimizer"] = Optimizer.ToJson(),
        }.WithSources(EnvId, Options.Net));

    /// <summary>Loads what <see cref="Save"/> wrote; a missing or corrupt DIR throws (FileNotFound/DirectoryNotFound/InvalidData).
    /// network: the factory a run with net "custom" was built with (a registered network is found by its recorded name).</summary>
    public static Td3 Load(string dir, Func<NetworkContext, Module>? network = null)
    {
        var config = OffPolicy.ReadConfig(dir, "td3");
        string envId = config["envId"]?.GetValue<string>() ?? throw new InvalidDataException($"td3 checkpoint: config.json in '{dir}' has no envId");
        var options = OffPolicy.OptionsFromJson<Td3Options>(config["options"], "td3");
        var spec = config["optimizer"] is JsonNode n ? OptimizerSpec.FromJson(n) : OptimizerSpec.Adam();
        var agent = new Td3(envId, options, spec, Agents.ConfigNetwork(options.Net, network, dir));
        OffPolicy.LoadWeights(dir, agent.Tensors().ToList(), "td3");
        return agent;
    }
}
