// Tests of MinAtar Breakout: hand-set rule cases, reference trajectories from kenjyoung/MinAtar, sticky actions, seeding, PNG.
using System.Buffers.Binary;
using System.Text.Json;
using NUnit.Framework;
using Tiny.Rl;

namespace Tiny.Tests.Rl;

public sealed class MinAtarTests
{
    private const int Noop = 0, Left = 1, Right = 2;   // minimal action set (v1)

    private static readonly Lazy<JsonDocument> Reference = new(() => TestData.Load("minatar_breakout_trajectories.json"));

    /// <summary>A started env with no sticky actions, the ball placed by hand and no bricks unless given.</summary>
    private static MinAtarBreakout Placed(int ballX, int ballY, int dir, int paddleX = 4, bool keepBricks = false)
    {
        var env = new MinAtarBreakout(stickyActionProb: 0);
        env.Reset(seed: 0);
        if (!keepBricks) Array.Clear(env.Bricks);
        env.BallX = ballX; env.BallY = ballY; env.BallDir = dir; env.PaddleX = paddleX;
        env.LastX = ballX; env.LastY = ballY;
        return env;
    }

    private static (int X, int Y, int Dir) Ball(MinAtarBreakout env) => (env.BallX, env.BallY, env.BallDir);

    [Test]
    public void ResetGivesTheReferenceStartState()
    {
        using var env = new MinAtarBreakout();
        var seen = new HashSet<(int, int)>();
        for (int s = 0; s < 20; s++)
        {
            var obs = env.Reset(seed: s);
            Assert.That(obs, Has.Length.EqualTo(400));
            Assert.That((env.BallX, env.BallDir), Is.EqualTo((0, 2)).Or.EqualTo((9, 3)));
            seen.Add((env.BallX, env.BallDir));
            Assert.That((env.BallY, env.PaddleX, env.LastX, env.LastY, env.Strike, env.Terminal), Is.EqualTo((3, 4, env.BallX, 3, false, false)));
            Assert.That(env.BrickCount, Is.EqualTo(30));
            for (int y = 0; y < 10; y++)
                for (int x = 0; x < 10; x++) Assert.That(env.Bricks[y, x], Is.EqualTo(y is >= 1 and <= 3));
        }
        Assert.That(seen, Has.Count.EqualTo(2), "both start sides occur");
    }

    [Test]
    public void BallReflectsOffSideWallsAndTop()
    {
        using var env = Placed(ballX: 0, ballY: 5, dir: 0);         // up-left at the left wall
        env.Step(Noop);
        Assert.That(Ball(env), Is.EqualTo((0, 4, 1)), "x clamped to the wall, direction now up-right");
        env.Step(Noop);
        Assert.That(Ball(env), Is.EqualTo((1, 3, 1)));

        using var right = Placed(ballX: 9, ballY: 5, dir: 2);       // down-right at the right wall
        right.Step(Noop);
        Assert.That(Ball(right), Is.EqualTo((9, 6, 3)));

        using var top = Placed(ballX: 5, ballY: 0, dir: 1);         // up-right on the top row
        top.Step(Noop);
        Assert.That(Ball(top), Is.EqualTo((6, 0, 2)), "y clamped to 0, direction now down-right");
        Assert.That((top.LastX, top.LastY), Is.EqualTo((5, 0)));

        using var corner = Placed(ballX: 0, ballY: 0, dir: 0);      // into the top-left corner: both flips
        corner.Step(Noop);
        Assert.That(Ball(corner), Is.EqualTo((0, 0, 2)));
    }

    [Test]
    public void BallBreaksABrickBouncesAndScoresOne()
    {
        using var env = Placed(ballX: 4, ballY: 5, dir: 1);
        env.Bricks[4, 5] = true;
        var r = env.Step(Noop);
        Assert.That(r.Reward, Is.EqualTo(1.0));
        Assert.That(env.Bricks[4, 5], Is.False);
        Assert.That(Ball(env), Is.EqualTo((5, 5, 2)), "x advances, y goes back to the previous row, direction down-right");
        Assert.That(env.Strike, Is.True);
        Assert.That(r.Terminated, Is.False);
        env.Step(Noop);
        Assert.That(env.Strike, Is.False, "strike clears on a step without a brick");
    }

    [Test]
    public void SecondBrickRightAfterAStrikeIsPassedThroughNotBroken()
    {
        using var env = Placed(ballX: 4, ballY: 5, dir: 2);         // moving down-right
        env.Strike = true;
        env.Bricks[6, 5] = true;
        var r = env.Step(Noop);
        Assert.That(r.Reward, Is.EqualTo(0.0));
        Assert.That(env.Bricks[6, 5], Is.True);
        Assert.That(Ball(env), Is.EqualTo((5, 6, 2)), "the ball enters the brick's cell unchanged");
        Assert.That(env.Strike, Is.True, "still striking: the cell held a brick");
    }

    [Test]
    public void PaddleBouncesStraightWhenBelowAndReversesWhenHitOnTheCorner()
    {
        using var above = Placed(ballX: 4, ballY: 8, dir: 2, paddleX: 4);   // ball right above the paddle
        above.Step(Noop);
        Assert.That(Ball(above), Is.EqualTo((5, 8, 1)), "only dy flips");
        Assert.That(above.Terminal, Is.False);

        using var corner = Placed(ballX: 3, ballY: 8, dir: 2, paddleX: 4);  // ball lands on the paddle's cell
        corner.Step(Noop);
        Assert.That(Ball(corner), Is.EqualTo((4, 8, 0)), "both components reverse");
    }

    [Test]
    public void BallPassingThePaddleRowTerminates()
    {
        using var env = Placed(ballX: 2, ballY: 8, dir: 2, paddleX: 7);
        var r = env.Step(Noop);
        Assert.That(r.Terminated, Is.True);
        Assert.That(r.Truncated, Is.False);
        Assert.That(Ball(env), Is.EqualTo((3, 9, 2)));
        var after = env.Step(Right);                                     // the reference ignores steps after the end
        Assert.That((after.Reward, after.Terminated, env.PaddleX, env.BallY), Is.EqualTo((0.0, true, 7, 9)));
    }

    [Test]
    public void ClearedBricksRefillWhenTheBallReachesThePaddleRow()
    {
        using var env = Placed(ballX: 3, ballY: 8, dir: 2, paddleX: 4);
        Assert.That(env.BrickCount, Is.EqualTo(0));
        env.Step(Noop);
        Assert.That(env.BrickCount, Is.EqualTo(30));
        for (int x = 0; x < 10; x++) Assert.That(env.Bricks[1, x] && env.Bricks[2, x] && env.Bricks[3, x], Is.True);

        using var miss = Placed(ballX: 0, ballY: 8, dir: 2, paddleX: 9);  // refill happens before the miss check
        miss.Step(Noop);
        Assert.That((miss.Terminal, miss.BrickCount), Is.EqualTo((true, 30)));
    }

    [Test]
    public void PaddleMovesAndClampsAtTheEdges()
    {
        using var env = Placed(ballX: 5, ballY: 2, dir: 1, paddleX: 1);
        env.Step(Left);
        Assert.That(env.PaddleX, Is.EqualTo(0));
        env.Step(Left);
        Assert.That(env.PaddleX, Is.EqualTo(0));
        env.PaddleX = 8;
        env.Step(Right);
        Assert.That(env.PaddleX, Is.EqualTo(9));
        env.Step(Right);
        Assert.That(env.PaddleX, Is.EqualTo(9));
        env.Step(Noop);
        Assert.That(env.PaddleX, Is.EqualTo(9));

        using var full = new MinAtarBreakout(stickyActionProb: 0, minimalActionSet: false);
        full.Reset(seed: 1);
        full.Step(2); full.Step(4); full.Step(5);                        // u, d, f do nothing in Breakout
        Assert.That(full.PaddleX, Is.EqualTo(4));
        full.Step(3);                                                    // r
        Assert.That(full.PaddleX, Is.EqualTo(5));
        full.Step(1);                                                    // l
        Assert.That(full.PaddleX, Is.EqualTo(4));
    }

    [Test]
    public void StickyActionsRepeatThePreviousActionAboutOneTimeInTen()
    {
        using var env = new MinAtarBreakout();                           // p = 0.1
        env.Reset(seed: 123);
        int repeats = 0, n = 20000;
        for (int i = 0; i < n; i++)
        {
            env.Terminal = false;                                        // keep the game running; only the action matters
            env.BallX = 5; env.BallY = 2; env.BallDir = 1;
            env.LastAction = 0;                                          // noop: a sticky step leaves it there
            int wanted = i % 2 == 0 ? Left : Right;
            env.Step(wanted);
            if (env.LastAction == 0) repeats++;
            else Assert.That(env.LastAction, Is.EqualTo(wanted == Left ? 1 : 3), "minimal left/right are full-set 1/3");
        }
        // Binomial(20000, 0.1): mean 2000, sd 42.
        Assert.That(repeats, Is.InRange(1800, 2200));
        Assert.That(new MinAtarBreakout(stickyActionProb: 0).StickyActionProb, Is.EqualTo(0));
        Assert.That(() => new MinAtarBreakout(stickyActionProb: 1.5), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void StickyActionRepeatsThePreviousActionNotTheNewOne()
    {
        using var env = new MinAtarBreakout(stickyActionProb: 1);        // always sticky
        env.Reset(seed: 0);
        Assert.That(env.LastAction, Is.EqualTo(0));
        env.Step(Right);
        Assert.That((env.PaddleX, env.LastAction), Is.EqualTo((4, 0)), "the initial previous action is noop");
        env.LastAction = 1;
        env.Step(Right);
        Assert.That(env.PaddleX, Is.EqualTo(3), "left was repeated");
    }

    [Test]
    public void ObservationChannelsMatchTheState()
    {
        using var env = Placed(ballX: 6, ballY: 5, dir: 3, paddleX: 2);
        env.Bricks[2, 7] = true; env.Bricks[0, 0] = true;
        env.Step(Left);
        var obs = env.GetObservation();
        Assert.That(env.ObservationSpace, Is.EqualTo(new Box(0f, 1f, 4, 10, 10)));
        Assert.That(((Box)env.ObservationSpace).Contains(obs), Is.True);
        float At(int c, int y, int x) => obs[c * 100 + y * 10 + x];
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 10; x++)
            {
                Assert.That(At(MinAtarBreakout.PaddleChannel, y, x), Is.EqualTo(y == 9 && x == 1 ? 1f : 0f));
                Assert.That(At(MinAtarBreakout.BallChannel, y, x), Is.EqualTo(y == 6 && x == 5 ? 1f : 0f));
                Assert.That(At(MinAtarBreakout.TrailChannel, y, x), Is.EqualTo(y == 5 && x == 6 ? 1f : 0f));
                Assert.That(At(MinAtarBreakout.BrickChannel, y, x), Is.EqualTo(env.Bricks[y, x] ? 1f : 0f));
            }
        Assert.That(obs.Sum(), Is.EqualTo(5f));
    }

    [Test]
    public void SameSeedSameEpisode()
    {
        static List<float> Run(int seed)
        {
            using var env = new MinAtarBreakout();
            var rng = new Rng(7);
            var trace = new List<float>(env.Reset(seed));
            for (int t = 0; t < 300; t++)
            {
                var r = env.Step(rng.NextInt(3));
                trace.AddRange(r.Observation);
                trace.Add((float)r.Reward);
                if (r.Terminated) trace.AddRange(env.Reset());
            }
            return trace;
        }
        Assert.That(Run(11), Is.EqualTo(Run(11)));
        var starts = Enumerable.Range(0, 10).Select(s => Run(s).Take(400).ToArray()).ToList();
        Assert.That(starts.Distinct(new SeqComparer()).Count(), Is.EqualTo(2), "different seeds reach both starts");
    }

    private sealed class SeqComparer : IEqualityComparer<float[]>
    {
        public bool Equals(float[]? a, float[]? b) => a!.SequenceEqual(b!);
        public int GetHashCode(float[] a) => a.Aggregate(17, (h, v) => h * 31 + v.GetHashCode());
    }

    [Test]
    public void BadActionsAndMisuseThrowClearly()
    {
        using var env = new MinAtarBreakout();
        Assert.That(() => env.Step(0), Throws.InvalidOperationException.With.Message.Contains("Reset"));
        env.Reset(seed: 0);
        Assert.That(() => env.Step(3), Throws.ArgumentException.With.Message.Contains("Discrete(3)"));
        Assert.That(() => env.Step(-1), Throws.ArgumentException);
        using var full = new MinAtarBreakout(minimalActionSet: false);
        full.Reset(seed: 0);
        Assert.That(() => full.Step(6), Throws.ArgumentException.With.Message.Contains("Discrete(6)"));
        Assert.That(() => full.Step([1.5f]), Throws.ArgumentException);
    }

    [Test]
    public void MakeCreatesTheRegisteredEnvs()
    {
        using var v1 = Env.Make("MinAtar/Breakout-v1");
        Assert.That(v1, Is.TypeOf<MinAtarBreakout>(), "no step limit: the reference registers none");
        Assert.That(v1.Id, Is.EqualTo("MinAtar/Breakout-v1"));
        Assert.That(v1.ActionSpace, Is.EqualTo(new Discrete(3)));
        Assert.That(((MinAtarBreakout)v1).StickyActionProb, Is.EqualTo(0.1));
        Assert.That(v1.Reset(seed: 0), Has.Length.EqualTo(400));
        using var v0 = Env.Make("MinAtar/Breakout-v0");
        Assert.That(v0.ActionSpace, Is.EqualTo(new Discrete(6)));
        Assert.That(Env.Registered, Does.Contain("MinAtar/Breakout-v1"));
    }

    public static IEnumerable<string> ReferenceEpisodes =>
        ["random_left", "random_right", "tracker_left", "tracker_right", "full_set_random"];

    [TestCaseSource(nameof(ReferenceEpisodes))]
    public void MatchesTheReferenceTrajectory(string name)
    {
        var ep = Reference.Value.RootElement.GetProperty("episodes").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        bool minimal = ep.GetProperty("action_set").GetString() == "minimal";
        using var env = new MinAtarBreakout(stickyActionProb: 0, minimalActionSet: minimal);
        env.Reset(seed: 0);
        env.BallX = ep.GetProperty("ball_x").GetInt32();
        env.BallDir = ep.GetProperty("ball_dir").GetInt32();
        env.LastX = env.BallX;
        AssertState(env, env.GetObservation(), ep.GetProperty("start"), $"{name} start");

        var actions = ep.GetProperty("actions").EnumerateArray().Select(a => a.GetInt32()).ToArray();
        var steps = ep.GetProperty("steps");
        Assert.That(steps.GetArrayLength(), Is.EqualTo(actions.Length));
        for (int t = 0; t < actions.Length; t++)
        {
            var r = env.Step(actions[t]);
            var s = steps[t];
            string at = $"{name} step {t + 1}";
            Assert.That(r.Reward, Is.EqualTo(s.GetProperty("r").GetDouble()), at);
            Assert.That(r.Terminated, Is.EqualTo(s.GetProperty("t").GetBoolean()), at);
            AssertState(env, r.Observation, s, at);
        }
    }

    private static void AssertState(MinAtarBreakout env, float[] obs, JsonElement s, string at)
    {
        Assert.That((env.BallX, env.BallY, env.BallDir, env.PaddleX, env.LastX, env.LastY, env.Strike),
            Is.EqualTo((s.GetProperty("bx").GetInt32(), s.GetProperty("by").GetInt32(), s.GetProperty("dir").GetInt32(),
                        s.GetProperty("pos").GetInt32(), s.GetProperty("lx").GetInt32(), s.GetProperty("ly").GetInt32(),
                        s.GetProperty("strike").GetBoolean())), at);
        var rows = s.GetProperty("bricks").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 10; x++)
                Assert.That(env.Bricks[y, x], Is.EqualTo((rows[y] >> x & 1) == 1), $"{at}: brick (y {y}, x {x})");
        var ones = s.GetProperty("obs").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var mine = Enumerable.Range(0, obs.Length).Where(i => obs[i] != 0).ToArray();
        Assert.That(mine, Is.EqualTo(ones), $"{at}: observation");
        Assert.That(obs.All(v => v is 0f or 1f), Is.True, at);
    }

    [Test]
    public void SavePngWritesAValidPng()
    {
        using var env = new MinAtarBreakout(stickyActionProb: 0);
        var frames = new List<float[]> { env.Reset(seed: 3) };
        for (int t = 0; t < 11; t++) frames.Add(env.Step(t % 3).Observation);
        string path = Path.Combine(Path.GetTempPath(), $"tiny_minatar_{Guid.NewGuid():N}.png");
        try
        {
            MinAtarRender.SavePng(frames, path, scale: 4, columns: 5);
            byte[] png = File.ReadAllBytes(path);
            Assert.That(png.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }));
            Assert.That(System.Text.Encoding.ASCII.GetString(png, 12, 4), Is.EqualTo("IHDR"));
            int width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
            Assert.That((width, height), Is.EqualTo((5 * 40 + 4, 3 * 40 + 2)), "5 columns x 3 rows of 40-pixel tiles, 1-pixel gaps");
            Assert.That((png[24], png[25]), Is.EqualTo(((byte)8, (byte)2)), "8-bit RGB");
            // Every chunk's CRC is right and the file ends with IEND.
            int pos = 8; string type = "";
            while (pos < png.Length)
            {
                int len = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
                type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
                uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + len));
                Assert.That(MinAtarRender.Crc32(0xFFFFFFFFu, png.AsSpan(pos + 4, 4 + len)) ^ 0xFFFFFFFFu, Is.EqualTo(crc), type);
                pos += 12 + len;
            }
            Assert.That((type, pos), Is.EqualTo(("IEND", png.Length)));
        }
        finally { File.Delete(path); }
        Assert.That(MinAtarRender.Crc32(0xFFFFFFFFu, "123456789"u8) ^ 0xFFFFFFFFu, Is.EqualTo(0xCBF43926u), "CRC-32 check value");
        Assert.That(() => MinAtarRender.SavePng([new float[7]], path), Throws.ArgumentException);
    }
}
