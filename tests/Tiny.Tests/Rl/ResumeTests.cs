// Exact resume of PPO, DQN and TD3: a run stopped at any point (or copied from a periodic checkpoint, as after a
// kill -9) and continued from its checkpoint ends with the same parameter bytes and the same progress reports as the
// uninterrupted run.
using System.Globalization;
using System.Text.Json.Nodes;
using NUnit.Framework;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public class ResumeTests
{
    /// <summary>A small run of each agent with an optimizer whose state is more than a step count.</summary>
    public static IEnumerable<TestCaseData> Runs()
    {
        yield return new TestCaseData("ppo", "CartPole-v1", "adam:eps=1e-5", new JsonObject { ["numEnvs"] = 2, ["numSteps"] = 32, ["totalTimesteps"] = 640, ["hiddenSize"] = 16 }, 300L)
            .SetName("ppo CartPole adam, stopped mid-rollout");
        yield return new TestCaseData("ppo", "Pendulum-v1", "adan", new JsonObject { ["numEnvs"] = 2, ["numSteps"] = 64, ["totalTimesteps"] = 1024, ["hiddenSize"] = 16, ["normalizeObs"] = true, ["normalizeReward"] = true, ["numMinibatches"] = 4 }, 500L)
            .SetName("ppo Pendulum adan, both normalisers");
        yield return new TestCaseData("dqn", "CartPole-v1", "schedulefree-adamw:lookahead_k=3", new JsonObject { ["totalTimesteps"] = 700, ["learningStarts"] = 100, ["bufferSize"] = 300, ["batchSize"] = 16, ["trainFrequency"] = 2, ["targetNetworkFrequency"] = 50, ["hiddenSizes"] = new JsonArray(16) }, 450L)
            .SetName("dqn CartPole schedule-free AdamW in Lookahead, buffer wrapped");
        yield return new TestCaseData("td3", "Pendulum-v1", "alphagrad:alpha=2,momentum=0.9", new JsonObject { ["totalTimesteps"] = 500, ["learningStarts"] = 100, ["bufferSize"] = 1000, ["batchSize"] = 16, ["actorHiddenSizes"] = new JsonArray(16), ["criticHiddenSizes"] = new JsonArray(16) }, 333L)
            .SetName("td3 Pendulum AlphaGrad with momentum");
        yield return new TestCaseData("td3", "Pendulum-v1", "adam", new JsonObject { ["totalTimesteps"] = 500, ["learningStarts"] = 100, ["bufferSize"] = 1000, ["batchSize"] = 16, ["actorHiddenSizes"] = new JsonArray(16), ["criticHiddenSizes"] = new JsonArray(16), ["noiseType"] = "ornstein-uhlenbeck", ["explorationNoise"] = 0.5 }, 333L)
            .SetName("td3 Pendulum Ornstein-Uhlenbeck noise, stopped mid-episode");
        yield return new TestCaseData("dqn", "CartPole-v1", "adam", new JsonObject { ["totalTimesteps"] = 700, ["learningStarts"] = 100, ["bufferSize"] = 300, ["batchSize"] = 16, ["trainFrequency"] = 4, ["gradientSteps"] = 3, ["loss"] = "huber", ["maxGradNorm"] = 1.0, ["annealLr"] = true, ["targetNetworkFrequency"] = 50, ["hiddenSizes"] = new JsonArray(16) }, 450L)
            .SetName("dqn CartPole Huber loss, clipped, 3 gradient steps a round, lr annealed");
    }

    private static IAgent Make(string algo, string env, string optimizer, JsonObject options) =>
        Agents.Create(algo, env, (JsonObject)options.DeepClone(), OptimizerSpec.Parse(optimizer), seed: 5, totalSteps: null);

    private static string Row(ProgressInfo p) =>
        string.Create(CultureInfo.InvariantCulture, $"{p.GlobalStep} {p.EpisodicReturn:R} {p.EpisodeLength} lr={p.LearningRate:R} ") +
        string.Join(" ", p.Metrics.OrderBy(kv => kv.Key).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value:R}")));

    private static byte[] ModelBytes(IAgent agent, string dir)
    {
        agent.Save(dir);
        return File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
    }

    /// <summary>Asserts equal report lists, naming the first report that differs (both lists are long).</summary>
    private static void SameReports(List<string> got, List<string> expected)
    {
        int i = 0;
        while (i < got.Count && i < expected.Count && got[i] == expected[i]) i++;
        if (i < got.Count || i < expected.Count)
            Assert.Fail($"report {i} of {expected.Count} differs:\n expected {(i < expected.Count ? expected[i] : "(none)")}\n got      {(i < got.Count ? got[i] : "(none)")}");
    }

    private static string Temp() => Directory.CreateTempSubdirectory("tiny-resume-").FullName;

    [TestCaseSource(nameof(Runs))]
    public void A_stopped_run_resumed_from_its_checkpoint_equals_the_uninterrupted_run(string algo, string env, string optimizer, JsonObject options, long stopAt)
    {
        var whole = Make(algo, env, optimizer, options);
        var wholeRows = new List<string>();
        whole.Train(p => wholeRows.Add(Row(p)));
        var expected = ModelBytes(whole, Temp());

        // Stopped by cancellation part-way (as SIGINT does), checkpointed, then continued by a fresh process's agent.
        var first = Make(algo, env, optimizer, options);
        var rows = new List<string>();
        using var cts = new CancellationTokenSource();
        first.Train(p => { rows.Add(Row(p)); if (p.GlobalStep >= stopAt) cts.Cancel(); }, cts.Token);
        Assert.That(first.GlobalStep, Is.GreaterThanOrEqualTo(stopAt).And.LessThan(whole.GlobalStep), "the run stopped part-way");
        string ck = Temp();
        first.SaveCheckpoint(ck);
        var resumed = Agents.Resume(ck);
        Assert.That(resumed.GlobalStep, Is.EqualTo(first.GlobalStep));
        resumed.Train(p => rows.Add(Row(p)));

        SameReports(rows, wholeRows);   // progress reports (steps, returns, losses, lr) of stop + resume vs uninterrupted
        Assert.That(ModelBytes(resumed, Temp()), Is.EqualTo(expected), "final parameters, byte for byte");
    }

    [TestCaseSource(nameof(Runs))]
    public void A_periodic_checkpoint_resumes_as_after_a_kill(string algo, string env, string optimizer, JsonObject options, long stopAt)
    {
        // The uninterrupted run writes a checkpoint at the first boundary past stopAt and goes on (a kill -9 later
        // loses what came after it); resuming from that checkpoint must end where the uninterrupted run ended.
        var whole = Make(algo, env, optimizer, options);
        var wholeRows = new List<string>();
        string ck = Temp();
        int rowsAtCheckpoint = -1;
        whole.Train(p => wholeRows.Add(Row(p)), default, step =>
        {
            if (rowsAtCheckpoint < 0 && step >= stopAt) { whole.SaveCheckpoint(ck); rowsAtCheckpoint = wholeRows.Count; }
        });
        Assert.That(rowsAtCheckpoint, Is.GreaterThan(0), "a checkpoint was written");
        var expected = ModelBytes(whole, Temp());

        var resumed = Agents.Resume(ck);
        var rows = wholeRows.Take(rowsAtCheckpoint).ToList();
        resumed.Train(p => rows.Add(Row(p)));
        SameReports(rows, wholeRows);
        Assert.That(ModelBytes(resumed, Temp()), Is.EqualTo(expected));
    }

    [Test]
    public void A_corrupt_or_foreign_checkpoint_is_refused_with_a_clear_error()
    {
        var agent = Make("dqn", "CartPole-v1", "adam", new JsonObject { ["totalTimesteps"] = 300, ["learningStarts"] = 50, ["bufferSize"] = 100, ["batchSize"] = 8, ["hiddenSizes"] = new JsonArray(8) });
        agent.Train();
        string ck = Temp();
        agent.SaveCheckpoint(ck);

        // Truncated tensors file.
        string tensors = Path.Combine(ck, CheckpointReader.TensorsFile);
        var bytes = File.ReadAllBytes(tensors);
        File.WriteAllBytes(tensors, bytes[..(bytes.Length / 2)]);
        Assert.That(() => Agents.Resume(ck), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("checkpoint.safetensors"));
        File.WriteAllBytes(tensors, bytes);

        // A PPO checkpoint's JSON in a DQN folder.
        string json = Path.Combine(ck, CheckpointReader.JsonFile);
        var o = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        o["algorithm"] = "ppo";
        File.WriteAllText(json, o.ToJsonString());
        Assert.That(() => Agents.Resume(ck), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("not a dqn"));

        // No checkpoint at all.
        string empty = Temp();
        agent.Save(empty);
        Assert.That(() => Agents.Resume(empty), Throws.InstanceOf<FileNotFoundException>().With.Message.Contain("no checkpoint"));
    }
}
