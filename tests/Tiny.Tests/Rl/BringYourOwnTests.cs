// A user's env and network in every agent: the test assembly's plugin (TestPlugin) registers two walk envs and three
// networks; the agents train on them, save, load and resume them exactly, the CLI loads the plugin with --assembly (or
// from a run's config.json, also in a fresh process), and bad networks or assemblies are one line and exit 2.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using NUnit.Framework;
using Tiny.Nn;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class BringYourOwnTests() : CliRunFixture("byo")
{
    private static string _plugin = "";

    [OneTimeSetUp]
    public void RegisterPlugin() => _plugin = TestPlugin.Load();

    /// <summary>Small runs of every agent on the user's envs (where the action space fits), with the options that
    /// learn them in these budgets, and what the trained greedy policy returns at least (from 0 the walk's best is 0.8).</summary>
    public static IEnumerable<TestCaseData> EnvRuns()
    {
        yield return new TestCaseData("ppo", TestPlugin.Walk, new JsonObject { ["numEnvs"] = 2, ["numSteps"] = 64, ["hiddenSize"] = 16, ["annealLr"] = false, ["learningRate"] = 1e-3 }, 8192L, 0.79)
            .SetName("ppo on the user's discrete walk");
        yield return new TestCaseData("dqn", TestPlugin.Walk, new JsonObject { ["learningStarts"] = 200, ["bufferSize"] = 2000, ["batchSize"] = 32, ["trainFrequency"] = 1, ["targetNetworkFrequency"] = 100, ["explorationFraction"] = 0.3, ["hiddenSizes"] = new JsonArray(32), ["learningRate"] = 1e-3 }, 3000L, 0.79)
            .SetName("dqn on the user's discrete walk");
        yield return new TestCaseData("ppo", TestPlugin.WalkContinuous, new JsonObject { ["numEnvs"] = 2, ["numSteps"] = 64, ["hiddenSize"] = 16, ["annealLr"] = false, ["learningRate"] = 1e-3 }, 8192L, 0.5)
            .SetName("ppo on the user's continuous walk");
        yield return new TestCaseData("td3", TestPlugin.WalkContinuous, new JsonObject { ["learningStarts"] = 300, ["bufferSize"] = 3000, ["batchSize"] = 64, ["actorHiddenSizes"] = new JsonArray(32), ["criticHiddenSizes"] = new JsonArray(32), ["learningRate"] = 1e-3 }, 3000L, 0.5)
            .SetName("td3 on the user's continuous walk");
    }

    [TestCaseSource(nameof(EnvRuns))]
    public void A_users_env_trains_with_the_agent(string algo, string env, JsonObject options, long steps, double solved)
    {
        var agent = Agents.Create(algo, env, (JsonObject)options.DeepClone(), null, seed: 1, totalSteps: steps);
        double before = Evaluate(agent, env);
        agent.Train();
        double after = Evaluate(agent, env);
        TestContext.Out.WriteLine($"{algo} on {env}: greedy return {before:F3} before, {after:F3} after {steps} steps");
        Assert.That(agent.GlobalStep, Is.GreaterThanOrEqualTo(steps - 512));
        Assert.That(after, Is.GreaterThanOrEqualTo(solved), "the trained policy reaches the goal");
        Assert.That(after, Is.GreaterThan(before));
    }

    private static double Evaluate(IAgent agent, string env) => OffPolicy.Evaluate(agent, env, episodes: 10, seed: 100).Average();

    /// <summary>A small run of each agent with a network of the user's own Module type (net "test-own").</summary>
    public static IEnumerable<TestCaseData> NetRuns()
    {
        yield return new TestCaseData("ppo", TestPlugin.Walk, new JsonObject { ["numEnvs"] = 2, ["numSteps"] = 32, ["totalTimesteps"] = 640 }, 300L).SetName("ppo with the user's network");
        yield return new TestCaseData("ppo", "Pendulum-v1", new JsonObject { ["numEnvs"] = 2, ["numSteps"] = 64, ["totalTimesteps"] = 640, ["normalizeObs"] = true }, 300L).SetName("ppo (continuous) with the user's network");
        yield return new TestCaseData("dqn", TestPlugin.Walk, new JsonObject { ["totalTimesteps"] = 600, ["learningStarts"] = 100, ["bufferSize"] = 300, ["batchSize"] = 16, ["targetNetworkFrequency"] = 50, ["trainFrequency"] = 1 }, 333L).SetName("dqn with the user's network");
        yield return new TestCaseData("td3", TestPlugin.WalkContinuous, new JsonObject { ["totalTimesteps"] = 500, ["learningStarts"] = 100, ["bufferSize"] = 500, ["batchSize"] = 16 }, 250L).SetName("td3 with the user's network");
    }

    private static IAgent Make(string algo, string env, JsonObject options, string net = TestPlugin.OwnNet)
    {
        var o = (JsonObject)options.DeepClone();
        o["net"] = net;
        return Agents.Create(algo, env, o, OptimizerSpec.Parse("adam"), seed: 3, totalSteps: null);
    }

    /// <summary>Every network the agent trains and its targets, by the agent's own accessors.</summary>
    private static IReadOnlyList<Module> NetworksOf(IAgent agent) => agent switch
    {
        Ppo p => [p.Network.Actor, p.Network.Critic],
        Dqn d => [d.QNetwork, d.TargetNetwork],
        Td3 t => t.Networks,
        _ => throw new ArgumentException(agent.Algorithm),
    };

    private static byte[] ModelBytes(IAgent agent, string dir)
    {
        agent.Save(dir);
        return File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
    }

    [TestCaseSource(nameof(NetRuns))]
    public void A_users_network_trains_and_round_trips_through_save_load_and_resume_exactly(string algo, string env, JsonObject options, long stopAt)
    {
        // The user's modules are the agent's networks, and training changes their parameters.
        var whole = Make(algo, env, options);
        Assert.That(NetworksOf(whole), Has.All.InstanceOf<TwoLayerNet>(), "every network (targets too) is the user's");
        var before = whole.NamedParameters().Select(p => p.Value.ToArray()).ToList();
        var reports = new List<string>();
        whole.Train(p => reports.Add(Row(p)));
        var after = whole.NamedParameters().Select(p => p.Value.ToArray()).ToList();
        Assert.That(after.SelectMany(a => a).All(float.IsFinite));
        Assert.That(Enumerable.Range(0, after.Count).Count(i => !after[i].SequenceEqual(before[i])), Is.EqualTo(after.Count), "every trained tensor moved");

        // Save and load: the same parameters, the same actions, and the net's name recorded.
        string saved = Dir();
        var expected = ModelBytes(whole, saved);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(saved, "config.json")))!;
        Assert.That(config["options"]!["net"]!.GetValue<string>(), Is.EqualTo(TestPlugin.OwnNet));
        Assert.That(config["envId"]!.GetValue<string>(), Is.EqualTo(env));
        var loaded = Agents.Load(saved);
        Assert.That(NetworksOf(loaded), Has.All.InstanceOf<TwoLayerNet>());
        Assert.That(ModelBytes(loaded, Dir()), Is.EqualTo(expected));
        var rng = new Rng(4);
        int dim = ((Box)Env.Make(env).ObservationSpace).Dim;
        for (int i = 0; i < 20; i++)
        {
            var obs = Enumerable.Range(0, dim).Select(_ => (float)rng.NextNormal()).ToArray();
            Assert.That(loaded.Act(obs), Is.EqualTo(whole.Act(obs)));
        }

        // Stopped part-way, checkpointed, resumed by a fresh agent: the uninterrupted run's reports and bytes.
        var first = Make(algo, env, options);
        var rows = new List<string>();
        using var cts = new CancellationTokenSource();
        first.Train(p => { rows.Add(Row(p)); if (p.GlobalStep >= stopAt) cts.Cancel(); }, cts.Token);
        Assert.That(first.GlobalStep, Is.LessThan(whole.GlobalStep), "stopped part-way");
        string ck = Dir();
        first.SaveCheckpoint(ck);
        var resumed = Agents.Resume(ck);
        Assert.That(NetworksOf(resumed), Has.All.InstanceOf<TwoLayerNet>());
        resumed.Train(p => rows.Add(Row(p)));
        Assert.That(rows, Is.EqualTo(reports), "progress reports of stop + resume");
        Assert.That(ModelBytes(resumed, Dir()), Is.EqualTo(expected), "final parameters, byte for byte");
    }

    private static string Row(ProgressInfo p) =>
        string.Create(CultureInfo.InvariantCulture, $"{p.GlobalStep} {p.EpisodicReturn:R} lr={p.LearningRate:R} ") +
        string.Join(" ", p.Metrics.OrderBy(kv => kv.Key).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value:R}")));

    /// <summary>A factory that builds what the agent builds itself (the same layers, the same draws from ctx.Rng in the
    /// same order; PPO: CleanRL's orthogonal init) must give the built-in run bit for bit: the user's network goes through
    /// the very same training code.</summary>
    public static IEnumerable<TestCaseData> BuiltInAgain()
    {
        static Module PpoMlp(NetworkContext ctx)
        {
            var mlp = Mlp.Create([ctx.InputSize, 16, 16, ctx.OutputSize], () => new Tanh(), ctx.Rng);
            var linears = mlp.Children().OfType<Linear>().ToList();
            for (int i = 0; i < linears.Count; i++)
            {
                Init.Orthogonal(linears[i].Weight, ctx.Rng, i == linears.Count - 1 ? (ctx.Role == "actor" ? 0.01 : 1.0) : Math.Sqrt(2));
                Init.Constant(linears[i].Bias!, 0);
            }
            return mlp;
        }
        yield return new TestCaseData("ppo", "Pendulum-v1", new JsonObject { ["numEnvs"] = 2, ["numSteps"] = 64, ["totalTimesteps"] = 512, ["hiddenSize"] = 16 },
                                      (Func<NetworkContext, Module>)PpoMlp).SetName("ppo: a factory of CleanRL's MLP is the built-in run");
        yield return new TestCaseData("dqn", "CartPole-v1", new JsonObject { ["totalTimesteps"] = 500, ["learningStarts"] = 100, ["hiddenSizes"] = new JsonArray(16, 16), ["batchSize"] = 16 },
                                      (Func<NetworkContext, Module>)(ctx => Mlp.Create([ctx.InputSize, 16, 16, ctx.OutputSize], () => new ReLU(), ctx.Rng))).SetName("dqn: a factory of the MLP is the built-in run");
        yield return new TestCaseData("td3", "Pendulum-v1", new JsonObject { ["totalTimesteps"] = 400, ["learningStarts"] = 100, ["actorHiddenSizes"] = new JsonArray(16), ["criticHiddenSizes"] = new JsonArray(16), ["batchSize"] = 16 },
                                      (Func<NetworkContext, Module>)(ctx => Mlp.Create([ctx.InputSize, 16, ctx.OutputSize], () => new ReLU(), ctx.Rng))).SetName("td3: a factory of the MLPs is the built-in run");
    }

    [TestCaseSource(nameof(BuiltInAgain))]
    public void A_factory_of_the_built_in_network_trains_exactly_as_the_built_in_one(string algo, string env, JsonObject options, Func<NetworkContext, Module> factory)
    {
        var builtIn = Agents.Create(algo, env, (JsonObject)options.DeepClone(), null, seed: 4, totalSteps: null);
        var mine = Agents.Create(algo, env, (JsonObject)options.DeepClone(), null, seed: 4, totalSteps: null, network: factory);
        var (a, b) = (new List<string>(), new List<string>());
        builtIn.Train(p => a.Add(Row(p)));
        mine.Train(p => b.Add(Row(p)));
        Assert.That(b, Is.EqualTo(a), "progress reports");
        Assert.That(ModelBytes(mine, Dir()), Is.EqualTo(ModelBytes(builtIn, Dir())), "parameters (and targets), byte for byte");
    }

    [Test]
    public void A_factory_passed_in_code_builds_the_networks_and_loading_needs_it_again()
    {
        var made = new List<NetworkContext>();
        Module Factory(NetworkContext ctx)
        {
            made.Add(ctx);
            return new TwoLayerNet(ctx.InputSize, 8, ctx.OutputSize, ctx.Rng);
        }
        var td3 = new Td3("Pendulum-v1", new Td3Options { TotalTimesteps = 200, LearningStarts = 50, BufferSize = 200, BatchSize = 8 }, network: Factory);
        Assert.That(made.Select(c => (c.Role, c.Name, c.InputSize, c.OutputSize)), Is.EqualTo(new[]
        {
            ("actor", "actor", 3, 1), ("critic", "qf1", 4, 1), ("critic", "qf2", 4, 1),
            ("actor", "actor_target", 3, 1), ("critic", "qf1_target", 4, 1), ("critic", "qf2_target", 4, 1),
        }), "roles, names and sizes: the actor maps obs to the action, each critic obs ++ action to Q");
        Assert.That(td3.Options.Net, Is.EqualTo(Networks.InCode));
        for (int i = 0; i < 3; i++)
            Assert.That(td3.Networks[i + 3].Parameters().Select(p => p.ToArray()), Is.EqualTo(td3.Networks[i].Parameters().Select(p => p.ToArray())), "targets start as copies");
        td3.Train();
        string dir = Dir();
        td3.Save(dir);
        var e = Assert.Throws<ArgumentException>(() => Agents.Load(dir))!;
        Assert.That(e.Message, Does.Contain("'custom'").And.Contain("Agents.Load(dir, network)"));
        var loaded = (Td3)Agents.Load(dir, Factory);
        Assert.That(loaded.Actor, Is.InstanceOf<TwoLayerNet>());
        Assert.That(loaded.Act([0.1f, 0.2f, 0.3f]), Is.EqualTo(td3.Act([0.1f, 0.2f, 0.3f])));

        // PPO: critic then actor, each from observations.
        made.Clear();
        var ppo = new Ppo(TestPlugin.Walk, new PpoOptions(), network: Factory);
        Assert.That(made.Select(c => (c.Role, c.InputSize, c.OutputSize)), Is.EqualTo(new[] { ("critic", 6, 1), ("actor", 6, 3) }));
        Assert.That(ppo.Network.Actor, Is.SameAs(ppo.Network.Children().Last()));
    }

    [Test]
    public void Ppo_trains_a_torso_shared_by_actor_and_critic_once_per_step()
    {
        Linear? torso = null;
        var ppo = (Ppo)Agents.Create("ppo", "CartPole-v1", new JsonObject { ["numEnvs"] = 1, ["numSteps"] = 64, ["numMinibatches"] = 2 }, null, 1, 256,
                                     ctx => new Sequential(torso ??= new Linear(ctx.InputSize, 16, ctx.Rng), new Tanh(), new Linear(16, ctx.OutputSize, ctx.Rng)));
        var optimizer = ppo.Optimizers[0].Value;
        var trained = optimizer.ParamGroups.SelectMany(g => g.Params).ToList();
        Assert.That(trained, Has.Count.EqualTo(6), "torso weight and bias once, then each head's");
        Assert.That(trained.Distinct(ReferenceEqualityComparer.Instance).Count(), Is.EqualTo(6));
        var before = torso!.Weight.ToArray();
        ppo.Train();
        Assert.That(torso.Weight.ToArray(), Is.Not.EqualTo(before));
        string dir = Dir();
        ppo.Save(dir);
        Linear? torso2 = null;   // shared again: model.safetensors holds it under both names, loaded into the one tensor
        var loaded = (Ppo)Agents.Load(dir, ctx => new Sequential(torso2 ??= new Linear(ctx.InputSize, 16, ctx.Rng), new Tanh(), new Linear(16, ctx.OutputSize, ctx.Rng)));
        Assert.That(torso2!.Weight.ToArray(), Is.EqualTo(torso.Weight.ToArray()));
        float[] obs = [0.1f, -0.2f, 0.05f, 0.3f];
        using (Tensor.NoGrad())
            Assert.That(loaded.Network.Actor.Forward(Tensor.FromArray(obs, 1, 4)).ToArray(), Is.EqualTo(ppo.Network.Actor.Forward(Tensor.FromArray(obs, 1, 4)).ToArray()));
    }

    [Test]
    public void A_ppo_run_saved_before_the_env_id_became_an_argument_still_loads()
    {
        // Such runs wrote "env_id" beside the options' own "envId", and no top-level "envId".
        var ppo = (Ppo)Agents.Create("ppo", "Acrobot-v1", new JsonObject { ["numEnvs"] = 1, ["numSteps"] = 64, ["numMinibatches"] = 1 }, null, 2, 128);
        ppo.Train();
        string dir = Dir();
        ppo.Save(dir);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        config.Remove("envId");
        config["env_id"] = "Acrobot-v1";
        config["options"]!["envId"] = "Acrobot-v1";
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        var loaded = (Ppo)Agents.Load(dir);
        Assert.That(loaded.EnvId, Is.EqualTo("Acrobot-v1"));
        var rng = new Rng(3);
        for (int i = 0; i < 20; i++)
        {
            var obs = Enumerable.Range(0, 6).Select(_ => (float)rng.NextNormal()).ToArray();
            Assert.That(loaded.Act(obs), Is.EqualTo(ppo.Act(obs)));
        }
        // Its config.json as --config of a new run: the options' envId is not an option (the env is --env).
        var (code, _, err) = Tiny(default, "train", "ppo", "--env", "CartPole-v1", "--config", Path.Combine(dir, "config.json"), "--total-steps", "128", "--out", Dir());
        Assert.That(code, Is.EqualTo(0), err);
    }

    [Test]
    public void A_network_of_the_wrong_size_or_a_broken_factory_is_one_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => Make("dqn", "CartPole-v1", new JsonObject(), TestPlugin.WrongSizeNet))!;
        Assert.That(e.Message, Does.Contain("q_network").And.Contain("maps [2, 4] to [2, 3]").And.Contain("expected [2, 2]").And.Contain("one Q-value per action"));
        e = Assert.Throws<ArgumentException>(() => Make("ppo", "Pendulum-v1", new JsonObject(), TestPlugin.WrongSizeNet))!;
        Assert.That(e.Message, Does.Contain("critic").And.Contain("to [2, 2]").And.Contain("expected [2, 1]"));
        // An input of the wrong width fails inside the network: named with the shape it must take.
        e = Assert.Throws<ArgumentException>(() => new Dqn("CartPole-v1", new DqnOptions(), network: ctx => Mlp.Create([5, ctx.OutputSize], () => new Tanh(), ctx.Rng)))!;
        Assert.That(e.Message, Does.Contain("fails on a [2, 4] batch").And.Contain("must map [batch, 4] to [batch, 2]"));
        // A factory that hands back the same module: the target would move with the online network.
        var shared = new TwoLayerNet(4, 8, 2, new Rng(1));
        e = Assert.Throws<ArgumentException>(() => new Dqn("CartPole-v1", new DqnOptions(), network: _ => shared))!;
        Assert.That(e.Message, Does.Contain("share the parameter").And.Contain("new module on each call"));
        e = Assert.Throws<ArgumentException>(() => new Dqn("CartPole-v1", new DqnOptions(), network: _ => new Flatten()))!;
        Assert.That(e.Message, Does.Contain("has no parameters"));
        e = Assert.Throws<ArgumentException>(() => new Dqn("CartPole-v1", new DqnOptions { Net = "no-such-net" }))!;
        Assert.That(e.Message, Does.Contain("'no-such-net' is unknown").And.Contain(TestPlugin.OwnNet).And.Contain("--assembly"));
        Assert.Throws<ArgumentException>(() => Networks.Register("mlp", ctx => new Flatten()), "a built-in name is reserved");
        Assert.Throws<ArgumentException>(() => Networks.Register(TestPlugin.OwnNet, ctx => new Flatten()), "a taken name");
    }

    [Test]
    public void Onnx_export_takes_a_registered_mlp_and_refuses_a_network_of_the_users_own_type_in_one_line()
    {
        var ppo = (Ppo)Make("ppo", TestPlugin.Walk, new JsonObject { ["numEnvs"] = 1, ["numSteps"] = 32, ["numMinibatches"] = 1, ["totalTimesteps"] = 64 }, TestPlugin.MlpNet);
        ppo.Train();
        string path = Path.Combine(Dir(), "policy.onnx");
        OnnxExport.Export(ppo, path);
        const int n = 32;
        OnnxExportTests.CheckDiscrete(ppo, ppo.Network.Actor, path, "logits", [WalkEnv.Size], 3, OnnxExportTests.RandomObs(n, WalkEnv.Size, 1.0, 5), n);

        string run = Dir();
        var (code, _, err) = Tiny(default, "train", "dqn", "--env", TestPlugin.Walk, "--assembly", _plugin, "--net", TestPlugin.OwnNet,
                                  "--total-steps", "300", "--learning-starts", "100", "--out", run);
        Assert.That(code, Is.EqualTo(0), err);
        (code, _, err) = Tiny(default, "export", run, "--onnx", Path.Combine(Dir(), "q.onnx"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1), err);
        Assert.That(err, Does.Contain("no ONNX form for the layer TwoLayerNet at q"));
    }

    [Test]
    public void Tiny_train_with_assembly_records_it_and_eval_finds_it_again()
    {
        string run = Dir();
        var (code, stdout, err) = Tiny(default, "train", "ppo", "--env", TestPlugin.Walk, "--assembly", _plugin, "--net", TestPlugin.MlpNet,
                                        "--total-steps", "2048", "--num-envs", "2", "--num-steps", "64", "--out", run);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain($"ppo on {TestPlugin.Walk}"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.That(config[Plugins.ConfigKey]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { _plugin }), "the env's and the network's assembly, once");
        Assert.That(config["options"]!["net"]!.GetValue<string>(), Is.EqualTo(TestPlugin.MlpNet));

        (code, stdout, err) = Tiny(default, "eval", run, "--episodes", "5");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.StartWith($"ppo on {TestPlugin.Walk}: 5 episodes, return "));
        (code, var withFlag, err) = Tiny(default, "eval", run, "--episodes", "5", "--assembly", _plugin);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(withFlag, Is.EqualTo(stdout));

        // config.json is what eval reads: an assembly it names that is gone is one line, exit 2; --assembly overrides it.
        config[Plugins.ConfigKey] = new JsonArray("/nowhere/MyEnvs.dll");
        File.WriteAllText(Path.Combine(run, "config.json"), config.ToJsonString());
        (code, _, err) = Tiny(default, "eval", run);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1), err);
        Assert.That(err, Does.Contain("/nowhere/MyEnvs.dll").And.Contain("missing").And.Contain("--assembly"));
        (code, withFlag, err) = Tiny(default, "eval", run, "--episodes", "5", "--assembly", _plugin);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(withFlag, Is.EqualTo(stdout));
    }

    [Test]
    public void A_fresh_tiny_process_resumes_and_evaluates_a_run_on_a_plugin_env_from_its_config_alone()
    {
        // In-process the registries already hold the plugin; a child process starts with none but what config.json names.
        string whole = Dir(), stopped = Dir();
        string[] run = ["train", "dqn", "--env", TestPlugin.Walk, "--assembly", _plugin, "--net", TestPlugin.OwnNet,
                        "--total-steps", "1500", "--learning-starts", "100", "--batch-size", "32"];
        var (code, _, err) = Tiny(default, [.. run, "--out", whole]);
        Assert.That(code, Is.EqualTo(0), err);
        StopAtFirstCheckpoint([.. run, "--out", stopped, "--checkpoint-every", "300"], stopped);
        var (childCode, childOut, childErr) = Child("train", "--resume", stopped);
        Assert.That(childCode, Is.EqualTo(0), childErr);
        Assert.That(childOut, Does.Contain("resumed at step"));
        CliResumeTests.AssertSameRun(stopped, whole);

        (childCode, childOut, childErr) = Child("eval", whole, "--episodes", "3");
        Assert.That(childCode, Is.EqualTo(0), childErr);
        Assert.That(childOut, Does.StartWith($"dqn on {TestPlugin.Walk}: 3 episodes"));

        // Without the assembly in config.json, a fresh process does not know the env: one line, exit 2; --assembly gives it.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(whole, "config.json")))!.AsObject();
        config.Remove(Plugins.ConfigKey);
        File.WriteAllText(Path.Combine(whole, "config.json"), config.ToJsonString());
        (childCode, _, childErr) = Child("eval", whole);
        Assert.That(childCode, Is.EqualTo(2));
        Assert.That(childErr.Trim().Split('\n'), Has.Length.EqualTo(1), childErr);
        Assert.That(childErr, Does.Contain($"'{TestPlugin.Walk}', which is not registered here").And.Contain("--assembly"));
        (childCode, var again, childErr) = Child("eval", whole, "--episodes", "3", "--assembly", _plugin);
        Assert.That(childCode, Is.EqualTo(0), childErr);
        Assert.That(again, Is.EqualTo(childOut));
    }

    /// <summary>Runs `tiny train ...` in-process and stops it (as a signal would) once its first periodic checkpoint
    /// exists; the run then saves a checkpoint where it stopped.</summary>
    private static void StopAtFirstCheckpoint(string[] args, string dir)
    {
        using var cts = new CancellationTokenSource();
        var watcher = Task.Run(() =>
        {
            while (!Directory.Exists(Path.Combine(dir, "checkpoint")) && !cts.IsCancellationRequested) Thread.Sleep(5);
            cts.Cancel();
        });
        var (code, stdout, err) = Tiny(cts.Token, args);
        cts.Cancel();
        watcher.Wait();
        Assert.That(code, Is.EqualTo(0), err);
        if (!stdout.Contains("stopped early")) Assert.Inconclusive("the run finished before it was stopped");
    }

    [Test]
    public void Tiny_train_resume_loads_the_runs_assembly()
    {
        string whole = Dir(), stopped = Dir();
        string[] run = ["train", "td3", "--env", TestPlugin.WalkContinuous, "--assembly", _plugin, "--net", TestPlugin.OwnNet,
                        "--total-steps", "600", "--learning-starts", "100", "--buffer-size", "600", "--batch-size", "16"];
        var (code, _, err) = Tiny(default, [.. run, "--out", whole]);
        Assert.That(code, Is.EqualTo(0), err);
        StopAtFirstCheckpoint([.. run, "--out", stopped, "--checkpoint-every", "300"], stopped);
        (code, var resumedOut, err) = Tiny(default, "train", "--resume", stopped, "--assembly", _plugin);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(resumedOut, Does.Contain("resumed at step"));
        CliResumeTests.AssertSameRun(stopped, whole);
        Assert.That(JsonNode.Parse(File.ReadAllText(Path.Combine(stopped, "config.json")))![Plugins.ConfigKey]!.AsArray().Count, Is.EqualTo(1));
    }

    [Test]
    public void A_missing_bad_or_empty_assembly_or_an_unknown_network_is_one_line_and_exit_2()
    {
        string notDll = Path.Combine(Dir(), "notes.dll");
        Directory.CreateDirectory(Path.GetDirectoryName(notDll)!);
        File.WriteAllText(notDll, "not an assembly");
        string noPlugin = typeof(Tensor).Assembly.Location;   // Tiny.Autograd: an assembly without an ITinyPlugin
        var cases = new (string[] Args, string Says)[]
        {
            (["train", "ppo", "--env", TestPlugin.Walk, "--assembly", "/nowhere/MyEnvs.dll"], "--assembly /nowhere/MyEnvs.dll: no such file"),
            (["train", "ppo", "--env", TestPlugin.Walk, "--assembly", notDll], "not a .NET assembly"),
            (["train", "ppo", "--env", TestPlugin.Walk, "--assembly", noPlugin], "no public class implements Tiny.Rl.ITinyPlugin"),
            (["train", "dqn", "--env", "CartPole-v1", "--assembly", _plugin, "--net", "no-such-net"], "net 'no-such-net' is unknown"),
            (["train", "dqn", "--env", "CartPole-v1", "--assembly", _plugin, "--net", TestPlugin.WrongSizeNet], "expected [2, 2]"),
            (["train", "td3", "--env", "Pendulum-v1", "--net", "cnn"], "not built in for td3"),
            (["train", "ppo", "--env", "Nope-v0"], "unknown env id 'Nope-v0'"),
            (["eval", "/nowhere/run", "--assembly", "/nowhere/MyEnvs.dll"], "--assembly /nowhere/MyEnvs.dll: no such file"),
        };
        foreach (var (args, says) in cases)
        {
            string outDir = Dir();
            var (code, _, err) = Tiny(default, [.. args, .. args[0] == "train" ? new[] { "--out", outDir } : []]);
            Assert.That(code, Is.EqualTo(2), string.Join(' ', args));
            Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1), err);
            Assert.That(err, Does.Contain(says), string.Join(' ', args));
            Assert.That(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), Is.False, "nothing written");
        }
    }

    /// <summary>`tiny args...` in a fresh process (tiny.dll beside the tests).</summary>
    private static (int Code, string Out, string Err) Child(params string[] args)
    {
        string tiny = Path.Combine(AppContext.BaseDirectory, "tiny.dll");
        var psi = new ProcessStartInfo("dotnet", ["exec", tiny, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var child = Process.Start(psi)!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        if (!child.WaitForExit(120_000)) { child.Kill(); Assert.Fail("tiny did not finish in 120 s"); }
        return (child.ExitCode, stdout.Result, stderr.Result);
    }
}
