// MinAtarAsterix: MinAtar's Asterix (Young and Tian 2019) with the rules of kenjyoung/MinAtar, minatar/environments/asterix.py.
namespace Tiny.Rl;

/// <summary>
/// MinAtar Asterix on a 10x10 grid, rule for rule as the reference (kenjyoung/MinAtar <c>asterix.py</c>; sticky
/// actions, seeding and layout as <see cref="MinAtarEnv"/>). The player moves on rows 1-8; enemies and gold enter
/// one per free row (slot i is row i + 1) from the left or right edge and walk across. Reward 1 per gold picked up;
/// terminated on touching an enemy. Difficulty ramps on step 102 and every 102 steps after: spawns come one step
/// sooner (every 10th step down to every step) and, on every second ramp, entities move one step sooner (every 5th
/// step down to every step).
/// <para>Actions: v1 minimal set {0: n, 1: l, 2: u, 3: r, 4: d}; v0 the full set (f does nothing).</para>
/// <para>Observation: [4, 10, 10], channels 0 player, 1 enemy, 2 trail (the cell an entity came from), 3 gold.</para>
/// <para>Randomness: each spawn draws <c>rand()</c> (side), <c>rand()</c> (gold with probability 1/3) and, when a
/// row is free, <c>randint(free rows)</c> (which row; nothing is drawn for a single free row).</para>
/// </summary>
public sealed class MinAtarAsterix : MinAtarEnv
{
    /// <summary>Number of observation channels.</summary>
    public const int Channels = 4;
    /// <summary>Channel indices of the observation.</summary>
    public const int PlayerChannel = 0, EnemyChannel = 1, TrailChannel = 2, GoldChannel = 3;
    /// <summary>The reference's constants: steps between ramps, first spawn interval, first move interval.</summary>
    public const int RampInterval = 100, InitSpawnSpeed = 10, InitMoveInterval = 5;
    /// <summary>Entity slots (one per row 1-8).</summary>
    public const int SlotCount = 8;

    // An entity is the reference's list [x, y, lr, is_gold] with the bools as 0/1.
    private const int EX = 0, EY = 1, ELr = 2, EGold = 3;

    /// <summary>Creates the env; call <see cref="MinAtarEnv.Reset"/> before stepping.</summary>
    /// <param name="stickyActionProb">Probability of repeating the previous action (reference default 0.1).</param>
    /// <param name="minimalActionSet">True: 5 actions (v1); false: MinAtar's 6 actions (v0).</param>
    /// <param name="difficultyRamping">Speed up spawns and moves over time (reference default on).</param>
    public MinAtarAsterix(double stickyActionProb = DefaultStickyActionProb, bool minimalActionSet = true, bool difficultyRamping = true)
        : base("Asterix", Channels, [ActNoop, ActLeft, ActUp, ActRight, ActDown], stickyActionProb, minimalActionSet, difficultyRamping)
    {
    }

    /// <summary>Player column, 0..9.</summary>
    public int PlayerX { get; set; }
    /// <summary>Player row, 1..8.</summary>
    public int PlayerY { get; set; }
    /// <summary>Steps between spawns (10 down to 1 as the difficulty ramps).</summary>
    public int SpawnSpeed { get; set; }
    /// <summary>Steps until the next spawn (0: this step spawns).</summary>
    public int SpawnTimer { get; set; }
    /// <summary>Steps between entity moves (5 down to 1).</summary>
    public int MoveSpeed { get; set; }
    /// <summary>Steps until entities next move (0: this step moves).</summary>
    public int MoveTimer { get; set; }
    /// <summary>Countdown to the next ramp.</summary>
    public int RampTimer { get; set; }
    /// <summary>Number of ramps so far (the reference's <c>difficulty_ramp()</c>).</summary>
    public int RampIndex { get; set; }

    /// <summary>The 8 entity slots: null or {x, y, left-to-right 0/1, gold 0/1}; slot i lives on row i + 1.</summary>
    internal int[]?[] Slots { get; } = new int[]?[SlotCount];

    /// <summary>Player at (5, 5), no entities, spawn and move timers at their initial intervals.</summary>
    protected override void ResetGame()
    {
        PlayerX = 5;
        PlayerY = 5;
        Array.Clear(Slots);
        SpawnSpeed = InitSpawnSpeed;
        SpawnTimer = SpawnSpeed;
        MoveSpeed = InitMoveInterval;
        MoveTimer = MoveSpeed;
        RampTimer = RampInterval;
        RampIndex = 0;
    }

    /// <inheritdoc/>
    protected override double ActGame(int fullAction)
    {
        double reward = 0;
        if (SpawnTimer == 0)
        {
            SpawnEntity();
            SpawnTimer = SpawnSpeed;
        }

        if (fullAction == ActLeft) PlayerX = Math.Max(0, PlayerX - 1);
        else if (fullAction == ActRight) PlayerX = Math.Min(9, PlayerX + 1);
        else if (fullAction == ActUp) PlayerY = Math.Max(1, PlayerY - 1);
        else if (fullAction == ActDown) PlayerY = Math.Min(8, PlayerY + 1);

        // Contact after the player's move, then again after each entity's move.
        for (int i = 0; i < SlotCount; i++)
            if (Slots[i] is int[] e && OnPlayer(e)) reward += Touch(i, e);
        if (MoveTimer == 0)
        {
            MoveTimer = MoveSpeed;
            for (int i = 0; i < SlotCount; i++)
            {
                if (Slots[i] is not int[] e) continue;
                e[EX] += e[ELr] != 0 ? 1 : -1;
                if (e[EX] < 0 || e[EX] > 9) Slots[i] = null;
                else if (OnPlayer(e)) reward += Touch(i, e);
            }
        }

        SpawnTimer -= 1;
        MoveTimer -= 1;

        // The ramp counts down from RampInterval to -1, then ramps on the next step and starts over.
        if (DifficultyRamping && (SpawnSpeed > 1 || MoveSpeed > 1))
        {
            if (RampTimer >= 0) RampTimer -= 1;
            else
            {
                if (MoveSpeed > 1 && RampIndex % 2 != 0) MoveSpeed -= 1;
                if (SpawnSpeed > 1) SpawnSpeed -= 1;
                RampIndex += 1;
                RampTimer = RampInterval;
            }
        }
        return reward;
    }

    private bool OnPlayer(int[] e) => e[EX] == PlayerX && e[EY] == PlayerY;

    // Gold is picked up (+1, slot freed); an enemy ends the episode (it stays on the board).
    private double Touch(int slot, int[] e)
    {
        if (e[EGold] != 0)
        {
            Slots[slot] = null;
            return 1;
        }
        Terminal = true;
        return 0;
    }

    // _spawn_entity: side and kind are drawn even when every slot is taken.
    private void SpawnEntity()
    {
        bool lr = Random.Rand() < 0.5;
        bool gold = Random.Rand() < 1.0 / 3;
        Span<int> free = stackalloc int[SlotCount];
        int n = 0;
        for (int i = 0; i < SlotCount; i++) if (Slots[i] is null) free[n++] = i;
        if (n == 0) return;
        int slot = free[Random.RandInt(0, n)];
        Slots[slot] = [lr ? 0 : 9, slot + 1, lr ? 1 : 0, gold ? 1 : 0];
    }

    /// <inheritdoc/>
    protected override void Draw(Span<float> obs)
    {
        CheckCell(PlayerX, PlayerY, "player");
        obs[Cell(PlayerChannel, PlayerY, PlayerX)] = 1;
        foreach (var e in Slots)
        {
            if (e is null) continue;
            CheckCell(e[EX], e[EY], "entity");
            obs[Cell(e[EGold] != 0 ? GoldChannel : EnemyChannel, e[EY], e[EX])] = 1;
            int backX = e[ELr] != 0 ? e[EX] - 1 : e[EX] + 1;
            if (backX >= 0 && backX <= 9) obs[Cell(TrailChannel, e[EY], backX)] = 1;
        }
    }

    /// <inheritdoc/>
    protected override void WriteGame(JsonObject state)
    {
        state["game"] = StateJson.Ints([PlayerX, PlayerY, SpawnSpeed, SpawnTimer, MoveSpeed, MoveTimer, RampTimer, RampIndex]);
        var slots = new JsonArray();
        foreach (var e in Slots) slots.Add(e is null ? null : StateJson.Ints(e));
        state["slots"] = slots;
    }

    /// <inheritdoc/>
    protected override void ReadGame(JsonObject state)
    {
        var v = StateJson.IntArray(state, "game");
        var slots = StateJson.Get(state, "slots") as JsonArray;
        if (v.Length != 8 || slots is null || slots.Count != SlotCount) throw new InvalidDataException($"{Id}: malformed saved state");
        (PlayerX, PlayerY, SpawnSpeed, SpawnTimer, MoveSpeed, MoveTimer, RampTimer, RampIndex) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
        for (int i = 0; i < SlotCount; i++)
        {
            var e = slots[i] is JsonArray a ? a.Select(n => n!.GetValue<int>()).ToArray() : null;
            if (e is { Length: not 4 }) throw new InvalidDataException($"{Id}: saved slot {i} holds {e.Length} values, not 4");
            Slots[i] = e;
        }
    }
}
