// Tests of the MinAtar games against kenjyoung/MinAtar's reference: numpy's generator draw for draw, seeded episodes
// (sticky actions, spawns, ramping) step for step, registrations, saved state mid-episode and rendering.
using System.Text.Json;
using System.Text.Json.Nodes;
using NUnit.Framework;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class MinAtarGamesTests
{
    private static readonly Dictionary<string, Lazy<JsonDocument>> Episodes = new[] { "asterix", "freeway", "seaquest", "space_invaders", "breakout" }
        .ToDictionary(g => g, g => new Lazy<JsonDocument>(() => TestData.Load($"minatar_{g}_episodes.json")));

    /// <summary>The env the reference run used: the game, its action set and ramping flag, sticky 0.1.</summary>
    private static MinAtarEnv Create(string game, bool minimal, bool ramping) => game switch
    {
        "asterix" => new MinAtarAsterix(minimalActionSet: minimal, difficultyRamping: ramping),
        "freeway" => new MinAtarFreeway(minimalActionSet: minimal),
        "seaquest" => new MinAtarSeaquest(minimalActionSet: minimal, difficultyRamping: ramping),
        "space_invaders" => new MinAtarSpaceInvaders(minimalActionSet: minimal, difficultyRamping: ramping),
        "breakout" => new MinAtarBreakout(minimalActionSet: minimal),
        _ => throw new ArgumentException(game),
    };

    /// <summary>The hidden values the generator records (its "hidden" names), then the sticky previous action.</summary>
    private static int[] Hidden(MinAtarEnv env)
    {
        int[] game = env switch
        {
            MinAtarAsterix a => [a.PlayerX, a.PlayerY, a.SpawnSpeed, a.SpawnTimer, a.MoveSpeed, a.MoveTimer, a.RampTimer, a.RampIndex],
            MinAtarFreeway f => [f.Position, f.MoveTimer, f.TerminateTimer, .. f.Cars.Select(c => c[2])],
            MinAtarSeaquest s => [s.Oxygen, s.DiverCount, s.SubX, s.SubY, s.FacingRight ? 1 : 0, s.EnemySpawnSpeed, s.EnemySpawnTimer,
                s.DiverSpawnTimer, s.MoveSpeed, s.RampIndex, s.ShotTimer, s.Surface ? 1 : 0],
            MinAtarSpaceInvaders v => [v.Position, v.AlienDir, v.EnemyMoveInterval, v.AlienMoveTimer, v.AlienShotTimer, v.RampIndex, v.ShotTimer],
            MinAtarBreakout b => [b.BallX, b.BallY, b.BallDir, b.PaddleX, b.LastX, b.LastY, b.Strike ? 1 : 0],
            _ => throw new ArgumentException(env.GetType().Name),
        };
        return [.. game, env.LastAction];
    }

    private static int[] Ones(float[] obs)
    {
        Assert.That(obs.All(v => v is 0f or 1f), Is.True, "observations are 0/1");
        return Enumerable.Range(0, obs.Length).Where(i => obs[i] != 0).ToArray();
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static JsonElement Run(string game, string name) =>
        Episodes[game].Value.RootElement.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);

    public static IEnumerable<TestCaseData> ReferenceRuns =>
    [
        new("asterix", "lookahead_v1"), new("asterix", "random_v1"), new("asterix", "random_v0"), new("asterix", "lookahead_no_ramping"),
        new("freeway", "lookahead_v1"), new("freeway", "random_v0"),
        new("seaquest", "lookahead_v1"), new("seaquest", "deep_v1"), new("seaquest", "random_v1"), new("seaquest", "random_v0"),
        new("space_invaders", "lookahead_v1"), new("space_invaders", "random_v1"), new("space_invaders", "random_v0"),
        new("breakout", "lookahead_v1"), new("breakout", "random_v0"),
    ];

    [TestCaseSource(nameof(ReferenceRuns))]
    public void SeededEpisodesEqualTheReference(string game, string name)
    {
        var run = Run(game, name);
        bool minimal = run.GetProperty("action_set").GetString() == "minimal";
        using var env = Create(game, minimal, run.GetProperty("ramping").GetBoolean());
        Assert.That(env.StickyActionProb, Is.EqualTo(run.GetProperty("sticky").GetDouble()));
        int e = 0;
        foreach (var ep in run.GetProperty("episodes").EnumerateArray())
        {
            var seed = ep.GetProperty("seed");
            var obs = env.Reset(seed.ValueKind == JsonValueKind.Null ? null : seed.GetInt32());
            string at = $"{game}/{name} episode {e} reset";
            Assert.That(Ones(obs), Is.EqualTo(Ints(ep.GetProperty("reset"))), at);
            Assert.That(Hidden(env), Is.EqualTo(Ints(ep.GetProperty("reset_h"))), at);
            var actions = Ints(ep.GetProperty("actions"));
            var steps = ep.GetProperty("steps");
            for (int t = 0; t < actions.Length; t++)
            {
                var r = env.Step(actions[t]);
                var s = steps[t];
                at = $"{game}/{name} episode {e} step {t + 1}";
                Assert.That(Hidden(env), Is.EqualTo(Ints(s.GetProperty("h"))), at + " (hidden state; names in the file's \"hidden\")");
                Assert.That(Ones(r.Observation), Is.EqualTo(Ints(s.GetProperty("obs"))), at + " observation");
                Assert.That((r.Reward, r.Terminated, r.Truncated), Is.EqualTo((s.GetProperty("r").GetDouble(), s.GetProperty("t").GetBoolean(), false)), at);
            }
            e++;
        }
    }

    /// <summary>The recorded runs reach the late-game states the rules ramp through (so the comparison covers them).</summary>
    [Test]
    public void TheReferenceRunsReachLateGameStates()
    {
        IEnumerable<int[]> HiddenSteps(string game) => Episodes[game].Value.RootElement.GetProperty("runs").EnumerateArray()
            .SelectMany(r => r.GetProperty("episodes").EnumerateArray()).SelectMany(ep => ep.GetProperty("steps").EnumerateArray())
            .Select(s => Ints(s.GetProperty("h")));
        // Asterix: the whole ramp (9 ramps: spawns and moves every step).
        var asterix = HiddenSteps("asterix").ToList();
        Assert.That((asterix.Max(h => h[7]), asterix.Min(h => h[2]), asterix.Min(h => h[4])), Is.EqualTo((9, 1, 1)));
        // Freeway: whole 2501-step episodes (the game timer below 0).
        Assert.That(HiddenSteps("freeway").Count(h => h[2] == -1), Is.GreaterThanOrEqualTo(3));
        // Seaquest: a 6-diver surfacing (the count goes to -1), several ramps, oxygen running out.
        var seaquest = HiddenSteps("seaquest").ToList();
        Assert.That(seaquest.Max(h => h[1]), Is.EqualTo(6));
        Assert.That(seaquest.Min(h => h[1]), Is.LessThanOrEqualTo(-1));
        Assert.That(seaquest.Max(h => h[9]), Is.GreaterThanOrEqualTo(4));
        Assert.That(seaquest.Min(h => h[8]), Is.EqualTo(2), "enemy move interval at its floor");
        Assert.That(seaquest.Min(h => h[0]), Is.LessThanOrEqualTo(0));
        // Space Invaders: waves cleared until the alien interval reaches its floor (12 -> 6).
        Assert.That(HiddenSteps("space_invaders").Min(h => h[2]), Is.EqualTo(6));
    }

    [Test]
    public void NumpyRandomRepeatsNumpysDraws()
    {
        using var doc = TestData.Load("minatar_numpy_random.json");
        foreach (var s in doc.RootElement.GetProperty("seeds").EnumerateArray())
        {
            uint seed = s.GetProperty("seed").GetUInt32();
            var r = new NumpyRandom(seed);
            int i = 0;
            foreach (var call in s.GetProperty("calls").EnumerateArray())
            {
                string at = $"seed {seed} call {i++}";
                var c = call.EnumerateArray().ToArray();
                if (c[0].GetString() == "rand")
                {
                    if (c[1].ValueKind == JsonValueKind.Array)
                        Assert.That(c[1].EnumerateArray().Select(_ => r.Rand()).ToArray(), Is.EqualTo(c[1].EnumerateArray().Select(v => v.GetDouble()).ToArray()), at);
                    else Assert.That(r.Rand(), Is.EqualTo(c[1].GetDouble()), at);
                }
                else
                {
                    int low = c[1].GetInt32(), high = c[2].GetInt32();
                    if (c[3].ValueKind == JsonValueKind.Array)
                        Assert.That(c[3].EnumerateArray().Select(_ => r.RandInt(low, high)).ToArray(), Is.EqualTo(Ints(c[3])), at);
                    else Assert.That(r.RandInt(low, high), Is.EqualTo(c[3].GetInt32()), at);
                }
            }
        }
        var copy = new NumpyRandom(7);
        copy.Rand();
        var (key, pos) = copy.State;
        var back = NumpyRandom.FromState(key, pos);
        for (int k = 0; k < 1000; k++) Assert.That(back.NextUInt32(), Is.EqualTo(copy.NextUInt32()));
    }

    public static IEnumerable<TestCaseData> Games =>
    [
        new("MinAtar/Asterix", 4, 5), new("MinAtar/Breakout", 4, 3), new("MinAtar/Freeway", 7, 3),
        new("MinAtar/Seaquest", 10, 6), new("MinAtar/SpaceInvaders", 6, 4),
    ];

    [TestCaseSource(nameof(Games))]
    public void RegisteredWithTheReferenceSpacesAndNoStepLimit(string name, int channels, int minimalActions)
    {
        foreach (var (version, actions) in new[] { ("v1", minimalActions), ("v0", 6) })
        {
            using var env = Env.Make($"{name}-{version}");
            Assert.That(env, Is.InstanceOf<MinAtarEnv>(), "no TimeLimit: the reference registers none");
            Assert.That(env.Id, Is.EqualTo($"{name}-{version}"));
            Assert.That(env.ActionSpace, Is.EqualTo(new Discrete(actions)));
            Assert.That(env.ObservationSpace, Is.EqualTo(new Box(0f, 1f, channels, 10, 10)));
            Assert.That(((MinAtarEnv)env).StickyActionProb, Is.EqualTo(0.1));
            Assert.That(((Box)env.ObservationSpace).Contains(env.Reset(seed: 0)), Is.True);
            Assert.That(() => env.Step(actions), Throws.ArgumentException.With.Message.Contains($"Discrete({actions})"));
        }
    }

    [TestCaseSource(nameof(Games))]
    public void SavedStateMidEpisodeContinuesExactly(string name, int channels, int minimalActions)
    {
        using var a = (MinAtarEnv)Env.Make($"{name}-v0");
        a.Reset(seed: 5);
        var actions = new Rng(3);
        for (int t = 0; t < 40 && !a.Terminal; t++) a.Step(actions.NextInt(6));
        string saved = a.SaveState().ToJsonString();
        var actionState = actions.State;
        var expected = new List<string>();
        for (int t = 0; t < 300; t++)
        {
            var r = a.Step(actions.NextInt(6));
            expected.Add($"{string.Join("", r.Observation)}|{r.Reward}|{r.Terminated}");
            if (r.Terminated) expected.Add(string.Join("", a.Reset()));
        }
        using var b = (MinAtarEnv)Env.Make($"{name}-v0");
        b.LoadState(JsonNode.Parse(saved)!.AsObject());
        var again = Rng.FromState(actionState);
        var got = new List<string>();
        for (int t = 0; t < 300; t++)
        {
            var r = b.Step(again.NextInt(6));
            got.Add($"{string.Join("", r.Observation)}|{r.Reward}|{r.Terminated}");
            if (r.Terminated) got.Add(string.Join("", b.Reset()));
        }
        Assert.That(got, Is.EqualTo(expected));
        Assert.That(channels * 100, Is.EqualTo(b.GetObservation().Length));
    }

    [Test]
    public void ASeedGivesOneEpisodeAndTheStreamContinuesAcrossResets()
    {
        static List<float> Play(int seed)
        {
            using var env = new MinAtarAsterix();
            var trace = new List<float>(env.Reset(seed));
            for (int t = 0; t < 400; t++)
            {
                var r = env.Step(t % 5);
                trace.AddRange(r.Observation);
                if (r.Terminated) trace.AddRange(env.Reset());
            }
            return trace;
        }
        Assert.That(Play(3), Is.EqualTo(Play(3)));
        Assert.That(Play(3), Is.Not.EqualTo(Play(4)));
        using var unseeded = new MinAtarSeaquest();
        Assert.That(unseeded.Reset(), Has.Length.EqualTo(1000), "an env never seeded seeds itself");
    }

    [Test]
    public void StepBeforeResetAndBadArgumentsThrowClearly()
    {
        using var env = new MinAtarFreeway();
        Assert.That(() => env.Step(0), Throws.InvalidOperationException.With.Message.Contains("Reset"));
        Assert.That(() => new MinAtarSeaquest(stickyActionProb: -0.1), Throws.TypeOf<ArgumentOutOfRangeException>());
        env.Reset(seed: 1);
        Assert.That(() => env.Act(6), Throws.ArgumentException.With.Message.Contains("0..5"));
        using var other = Env.Make("MinAtar/Asterix-v1");
        Assert.That(() => other.LoadState(env.SaveState()), Throws.TypeOf<InvalidDataException>());
    }

    [Test]
    public void RenderDrawsEveryGameWithTheReferencePalette()
    {
        // seaborn's cubehelix for 4 channels (the reference's display of Breakout and Asterix), as 0-255 RGB.
        Assert.That(MinAtarRender.Palette(4), Is.EqualTo(new[] { new byte[] { 22, 61, 78 }, [84, 121, 47], [208, 126, 147], [193, 202, 243] }));
        foreach (var id in new[] { "MinAtar/Asterix-v1", "MinAtar/Freeway-v1", "MinAtar/Seaquest-v1", "MinAtar/SpaceInvaders-v1" })
        {
            using var env = Env.Make(id);
            var frames = new List<float[]> { env.Reset(seed: 2) };
            for (int t = 0; t < 5; t++) frames.Add(env.Step(t % 2).Observation);
            string path = Path.Combine(Path.GetTempPath(), $"tiny_minatar_{Guid.NewGuid():N}.png");
            try
            {
                MinAtarRender.SavePng(frames, path, scale: 2, columns: 3);
                Assert.That(new FileInfo(path).Length, Is.GreaterThan(60), id);
            }
            finally { File.Delete(path); }
        }
    }
}
