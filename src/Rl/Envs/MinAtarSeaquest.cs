// MinAtarSeaquest: MinAtar's Seaquest (Young and Tian 2019) with the rules of kenjyoung/MinAtar, minatar/environments/seaquest.py.
namespace Tiny.Rl;

/// <summary>
/// MinAtar Seaquest on a 10x10 grid, rule for rule as the reference (kenjyoung/MinAtar <c>seaquest.py</c>; sticky
/// actions, seeding and layout as <see cref="MinAtarEnv"/>). The player's submarine (a front and a back cell) moves
/// on rows 0-8 and fires bullets forward; enemy fish and submarines (which shoot) cross rows 1-8; divers drift across
/// and are picked up by touching them (at most 6 on board). Reward 1 per enemy shot. Oxygen (200) drops by 1 per step
/// below the surface; surfacing (reaching row 0 after being below) with at least one diver refills it and drops one
/// diver, or with 6 divers drops all of them and gives reward oxygen * 10 / 200 (rounded down). Terminated by an
/// enemy, fish or bullet on the submarine, by running out of oxygen, or by surfacing with no diver. Difficulty ramps
/// at every surfacing: enemies spawn one step sooner (every 20th step down to every step) and, on every second ramp,
/// move one step sooner (every 6th step down to every 3rd).
/// <para>The reference's quirks are kept: surfacing with 6 divers leaves the count at -1 (it is zeroed, then
/// decremented), so the next surfacings need no diver; a submarine that is shot or leaves the grid still fires if its
/// shot timer runs out that step; entities live in lists updated back to front and removed by value, as Python's
/// <c>list.remove</c> in a <c>reversed</c> loop.</para>
/// <para>Actions: v1 and v0 both have all 6 actions {0: n, 1: l, 2: u, 3: r, 4: d, 5: f} (the minimal set is the full one).</para>
/// <para>Observation: [10, 10, 10], channels 0 sub front, 1 sub back, 2 friendly bullet, 3 trail (the cell an enemy or
/// diver came from), 4 enemy bullet, 5 enemy fish, 6 enemy sub, 7 oxygen gauge (row 9, oxygen * 10 / 200 cells from
/// the left), 8 diver gauge (row 9, one cell per diver ending at column 8), 9 diver.</para>
/// <para>Randomness: an enemy spawn draws <c>rand()</c> (side), <c>rand()</c> (sub with probability 1/3) and
/// <c>randint(1, 9)</c> (row; no spawn when an enemy there goes the other way); a diver spawn draws <c>rand()</c> and
/// <c>randint(1, 9)</c>.</para>
/// </summary>
public sealed class MinAtarSeaquest : MinAtarEnv
{
    /// <summary>Number of observation channels.</summary>
    public const int Channels = 10;
    /// <summary>Channel indices of the observation.</summary>
    public const int SubFrontChannel = 0, SubBackChannel = 1, FriendlyBulletChannel = 2, TrailChannel = 3, EnemyBulletChannel = 4,
        EnemyFishChannel = 5, EnemySubChannel = 6, OxygenGaugeChannel = 7, DiverGaugeChannel = 8, DiverChannel = 9;
    /// <summary>The reference's constants.</summary>
    public const int MaxOxygen = 200, InitSpawnSpeed = 20, DiverSpawnSpeed = 30, InitMoveInterval = 5, ShotCoolDown = 5,
        EnemyShotInterval = 10, DiverMoveInterval = 5;

    // Entities are the reference's lists: bullets [x, y, dir], fish and divers [x, y, dir, move timer],
    // subs [x, y, dir, move timer, shot timer]; dir 1 = moving right.
    private const int EX = 0, EY = 1, EDir = 2, EMove = 3, EShot = 4;

    /// <summary>Creates the env; call <see cref="MinAtarEnv.Reset"/> before stepping.</summary>
    /// <param name="stickyActionProb">Probability of repeating the previous action (reference default 0.1).</param>
    /// <param name="minimalActionSet">v1 (true) or v0 (false); both have the 6 actions.</param>
    /// <param name="difficultyRamping">Speed up spawns and moves at each surfacing (reference default on).</param>
    public MinAtarSeaquest(double stickyActionProb = DefaultStickyActionProb, bool minimalActionSet = true, bool difficultyRamping = true)
        : base("Seaquest", Channels, [ActNoop, ActLeft, ActUp, ActRight, ActDown, ActFire], stickyActionProb, minimalActionSet, difficultyRamping)
    {
    }

    /// <summary>Oxygen left (200 when full); below the surface it drops by 1 per step.</summary>
    public int Oxygen { get; set; }
    /// <summary>Divers on board (0..6; -1 or less after the reference's 6-diver surfacing quirk).</summary>
    public int DiverCount { get; set; }
    /// <summary>Submarine front column, 0..9.</summary>
    public int SubX { get; set; }
    /// <summary>Submarine row, 0 (surface) .. 8.</summary>
    public int SubY { get; set; }
    /// <summary>The submarine faces right (its back cell is to its left).</summary>
    public bool FacingRight { get; set; }
    /// <summary>Steps between enemy spawns (20 down to 1).</summary>
    public int EnemySpawnSpeed { get; set; }
    /// <summary>Steps until the next enemy spawn.</summary>
    public int EnemySpawnTimer { get; set; }
    /// <summary>Steps until the next diver spawn.</summary>
    public int DiverSpawnTimer { get; set; }
    /// <summary>Enemy move interval (5 down to 2).</summary>
    public int MoveSpeed { get; set; }
    /// <summary>Number of ramps so far (the reference's <c>difficulty_ramp()</c>).</summary>
    public int RampIndex { get; set; }
    /// <summary>Steps until the player may fire again.</summary>
    public int ShotTimer { get; set; }
    /// <summary>The submarine is at the surface and has surfaced (no new surfacing until it dives).</summary>
    public bool Surface { get; set; }

    internal List<int[]> FriendlyBullets { get; } = [];
    internal List<int[]> EnemyBullets { get; } = [];
    internal List<int[]> EnemyFish { get; } = [];
    internal List<int[]> EnemySubs { get; } = [];
    internal List<int[]> Divers { get; } = [];

    /// <summary>Full oxygen, no divers, the submarine at (5, 0) facing left, no entities.</summary>
    protected override void ResetGame()
    {
        Oxygen = MaxOxygen;
        DiverCount = 0;
        SubX = 5;
        SubY = 0;
        FacingRight = false;
        FriendlyBullets.Clear(); EnemyBullets.Clear(); EnemyFish.Clear(); EnemySubs.Clear(); Divers.Clear();
        EnemySpawnSpeed = InitSpawnSpeed;
        EnemySpawnTimer = EnemySpawnSpeed;
        DiverSpawnTimer = DiverSpawnSpeed;
        MoveSpeed = InitMoveInterval;
        RampIndex = 0;
        ShotTimer = 0;
        Surface = true;
    }

    /// <inheritdoc/>
    protected override double ActGame(int fullAction)
    {
        double reward = 0;
        if (EnemySpawnTimer == 0)
        {
            SpawnEnemy();
            EnemySpawnTimer = EnemySpawnSpeed;
        }
        if (DiverSpawnTimer == 0)
        {
            SpawnDiver();
            DiverSpawnTimer = DiverSpawnSpeed;
        }

        // Fire takes the step only when the gun is ready; otherwise it does nothing.
        if (fullAction == ActFire && ShotTimer == 0)
        {
            FriendlyBullets.Add([SubX, SubY, FacingRight ? 1 : 0]);
            ShotTimer = ShotCoolDown;
        }
        else if (fullAction == ActLeft) { SubX = Math.Max(0, SubX - 1); FacingRight = false; }
        else if (fullAction == ActRight) { SubX = Math.Min(9, SubX + 1); FacingRight = true; }
        else if (fullAction == ActUp) SubY = Math.Max(0, SubY - 1);
        else if (fullAction == ActDown) SubY = Math.Min(8, SubY + 1);

        // Friendly bullets: move, leave the grid, or hit the first fish (else the first sub) on their cell.
        for (int i = FriendlyBullets.Count - 1; i >= 0 && i < FriendlyBullets.Count; i--)
        {
            var bullet = FriendlyBullets[i];
            bullet[EX] += bullet[EDir] != 0 ? 1 : -1;
            if (bullet[EX] < 0 || bullet[EX] > 9) { RemoveEqual(FriendlyBullets, bullet); continue; }
            int hit = EnemyFish.FindIndex(f => SameCell(f, bullet));
            if (hit >= 0) { RemoveEqual(EnemyFish, EnemyFish[hit]); RemoveEqual(FriendlyBullets, bullet); reward += 1; continue; }
            hit = EnemySubs.FindIndex(s => SameCell(s, bullet));
            if (hit >= 0) { RemoveEqual(EnemySubs, EnemySubs[hit]); RemoveEqual(FriendlyBullets, bullet); reward += 1; }
        }

        // Divers: picked up where they are, or move every DiverMoveInterval + 1 steps and may be picked up there.
        for (int i = Divers.Count - 1; i >= 0 && i < Divers.Count; i--)
        {
            var diver = Divers[i];
            if (OnSub(diver) && DiverCount < 6) { RemoveEqual(Divers, diver); DiverCount += 1; }
            else if (diver[EMove] == 0)
            {
                diver[EMove] = DiverMoveInterval;
                diver[EX] += diver[EDir] != 0 ? 1 : -1;
                if (diver[EX] < 0 || diver[EX] > 9) RemoveEqual(Divers, diver);
                else if (OnSub(diver) && DiverCount < 6) { RemoveEqual(Divers, diver); DiverCount += 1; }
            }
            else diver[EMove] -= 1;
        }

        // Enemy subs: touch, move, leave or meet a friendly bullet; then shoot (even one just removed).
        for (int i = EnemySubs.Count - 1; i >= 0 && i < EnemySubs.Count; i--)
        {
            var sub = EnemySubs[i];
            reward += MoveEnemy(EnemySubs, sub);
            if (sub[EShot] == 0)
            {
                sub[EShot] = EnemyShotInterval;
                EnemyBullets.Add([sub[EX], sub[EY], sub[EDir]]);
            }
            else sub[EShot] -= 1;
        }

        // Enemy bullets: one cell per step; they hit the submarine before or after moving.
        for (int i = EnemyBullets.Count - 1; i >= 0 && i < EnemyBullets.Count; i--)
        {
            var bullet = EnemyBullets[i];
            if (OnSub(bullet)) Terminal = true;
            bullet[EX] += bullet[EDir] != 0 ? 1 : -1;
            if (bullet[EX] < 0 || bullet[EX] > 9) RemoveEqual(EnemyBullets, bullet);
            else if (OnSub(bullet)) Terminal = true;
        }

        for (int i = EnemyFish.Count - 1; i >= 0 && i < EnemyFish.Count; i--)
            reward += MoveEnemy(EnemyFish, EnemyFish[i]);

        if (EnemySpawnTimer > 0) EnemySpawnTimer -= 1;
        if (DiverSpawnTimer > 0) DiverSpawnTimer -= 1;
        if (ShotTimer > 0) ShotTimer -= 1;
        if (Oxygen <= 0) Terminal = true;
        if (SubY > 0)
        {
            Oxygen -= 1;
            Surface = false;
        }
        else if (!Surface)
        {
            if (DiverCount == 0) Terminal = true;
            else reward += Resurface();
        }
        return reward;
    }

    // A fish or sub: touching the submarine ends the game; every MoveSpeed + 1 steps it moves, then leaves the grid,
    // touches the submarine, or is shot by the first friendly bullet on its cell (reward 1).
    private double MoveEnemy(List<int[]> list, int[] enemy)
    {
        if (OnSub(enemy)) Terminal = true;
        if (enemy[EMove] != 0)
        {
            enemy[EMove] -= 1;
            return 0;
        }
        enemy[EMove] = MoveSpeed;
        enemy[EX] += enemy[EDir] != 0 ? 1 : -1;
        if (enemy[EX] < 0 || enemy[EX] > 9) RemoveEqual(list, enemy);
        else if (OnSub(enemy)) Terminal = true;
        else
        {
            int hit = FriendlyBullets.FindIndex(b => SameCell(b, enemy));
            if (hit >= 0)
            {
                RemoveEqual(list, enemy);
                RemoveEqual(FriendlyBullets, FriendlyBullets[hit]);
                return 1;
            }
        }
        return 0;
    }

    // _surface: refill oxygen, drop one diver (6 divers: all, for oxygen * 10 / 200 reward, then the decrement too), ramp.
    private double Resurface()
    {
        Surface = true;
        double reward = 0;
        if (DiverCount == 6)
        {
            DiverCount = 0;
            reward = Math.Floor(Oxygen * 10 / (double)MaxOxygen);   // Python's //, also below 0
        }
        Oxygen = MaxOxygen;
        DiverCount -= 1;
        if (DifficultyRamping && (EnemySpawnSpeed > 1 || MoveSpeed > 2))
        {
            if (MoveSpeed > 2 && RampIndex % 2 != 0) MoveSpeed -= 1;
            if (EnemySpawnSpeed > 1) EnemySpawnSpeed -= 1;
            RampIndex += 1;
        }
        return reward;
    }

    // _spawn_enemy: no spawn in a row where an enemy moves the other way (the draws are made anyway).
    private void SpawnEnemy()
    {
        int lr = Random.Rand() < 0.5 ? 1 : 0;
        bool isSub = Random.Rand() < 1.0 / 3;
        int x = lr != 0 ? 0 : 9;
        int y = Random.RandInt(1, 9);
        foreach (var z in EnemySubs) if (z[EY] == y && z[EDir] != lr) return;
        foreach (var z in EnemyFish) if (z[EY] == y && z[EDir] != lr) return;
        if (isSub) EnemySubs.Add([x, y, lr, MoveSpeed, EnemyShotInterval]);
        else EnemyFish.Add([x, y, lr, MoveSpeed]);
    }

    private void SpawnDiver()
    {
        int lr = Random.Rand() < 0.5 ? 1 : 0;
        int x = lr != 0 ? 0 : 9;
        int y = Random.RandInt(1, 9);
        Divers.Add([x, y, lr, DiverMoveInterval]);
    }

    private bool OnSub(int[] e) => e[EX] == SubX && e[EY] == SubY;

    private static bool SameCell(int[] a, int[] b) => a[EX] == b[EX] && a[EY] == b[EY];

    // Python's list.remove: the first element equal in value (not necessarily the same object).
    private void RemoveEqual(List<int[]> list, int[] item)
    {
        int i = list.FindIndex(e => e.AsSpan().SequenceEqual(item));
        if (i < 0) throw new InvalidOperationException($"{Id}: removing an entity that is not in its list");
        list.RemoveAt(i);
    }

    /// <inheritdoc/>
    protected override void Draw(Span<float> obs)
    {
        CheckCell(SubX, SubY, "submarine");
        obs[Cell(SubFrontChannel, SubY, SubX)] = 1;
        int backX = FacingRight ? SubX - 1 : SubX + 1;
        if (backX == -1) backX = 9;                                     // numpy's index -1 (unreachable in play)
        CheckCell(backX, SubY, "submarine back");
        obs[Cell(SubBackChannel, SubY, backX)] = 1;
        for (int x = 0; x < Math.Max(0, Oxygen) * 10 / MaxOxygen; x++) obs[Cell(OxygenGaugeChannel, 9, x)] = 1;
        for (int x = Math.Max(0, 9 - DiverCount); x < 9; x++) obs[Cell(DiverGaugeChannel, 9, x)] = 1;
        foreach (var b in FriendlyBullets) { CheckCell(b[EX], b[EY], "bullet"); obs[Cell(FriendlyBulletChannel, b[EY], b[EX])] = 1; }
        foreach (var b in EnemyBullets) { CheckCell(b[EX], b[EY], "enemy bullet"); obs[Cell(EnemyBulletChannel, b[EY], b[EX])] = 1; }
        DrawWithTrail(obs, EnemyFish, EnemyFishChannel);
        DrawWithTrail(obs, EnemySubs, EnemySubChannel);
        DrawWithTrail(obs, Divers, DiverChannel);
    }

    private void DrawWithTrail(Span<float> obs, List<int[]> list, int channel)
    {
        foreach (var e in list)
        {
            CheckCell(e[EX], e[EY], "entity");
            obs[Cell(channel, e[EY], e[EX])] = 1;
            int backX = e[EDir] != 0 ? e[EX] - 1 : e[EX] + 1;
            if (backX >= 0 && backX <= 9) obs[Cell(TrailChannel, e[EY], backX)] = 1;
        }
    }

    /// <inheritdoc/>
    protected override void WriteGame(JsonObject state)
    {
        state["game"] = StateJson.Ints([Oxygen, DiverCount, SubX, SubY, FacingRight ? 1 : 0, EnemySpawnSpeed, EnemySpawnTimer,
            DiverSpawnTimer, MoveSpeed, RampIndex, ShotTimer, Surface ? 1 : 0]);
        state["friendly_bullets"] = EntityList(FriendlyBullets);
        state["enemy_bullets"] = EntityList(EnemyBullets);
        state["enemy_fish"] = EntityList(EnemyFish);
        state["enemy_subs"] = EntityList(EnemySubs);
        state["divers"] = EntityList(Divers);
    }

    /// <inheritdoc/>
    protected override void ReadGame(JsonObject state)
    {
        var v = StateJson.IntArray(state, "game");
        if (v.Length != 12) throw new InvalidDataException($"{Id}: malformed saved state ({v.Length} game values)");
        (Oxygen, DiverCount, SubX, SubY, FacingRight, EnemySpawnSpeed, EnemySpawnTimer) = (v[0], v[1], v[2], v[3], v[4] != 0, v[5], v[6]);
        (DiverSpawnTimer, MoveSpeed, RampIndex, ShotTimer, Surface) = (v[7], v[8], v[9], v[10], v[11] != 0);
        foreach (var (list, key, width) in new[] { (FriendlyBullets, "friendly_bullets", 3), (EnemyBullets, "enemy_bullets", 3),
                     (EnemyFish, "enemy_fish", 4), (EnemySubs, "enemy_subs", 5), (Divers, "divers", 4) })
        {
            list.Clear();
            list.AddRange(ReadEntityList(state, key, width));
        }
    }
}
