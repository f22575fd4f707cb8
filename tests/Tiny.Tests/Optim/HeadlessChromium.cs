// A headless Chromium driven over the Chrome DevTools Protocol (System.Net.WebSockets, no other dependency): loads a
// page, evaluates script in it, collects console errors, uncaught exceptions and requests, takes screenshots.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tiny.Tests.Optim;

/// <summary>One Chromium process (headless, its own temporary profile) with one page attached: <see cref="Start"/>,
/// then <see cref="Navigate"/>, <see cref="Evaluate"/>, <see cref="Screenshot"/>; Dispose closes it.</summary>
internal sealed class HeadlessChromium : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receiver = Task.CompletedTask;
    private string _session = "";
    private int _nextId;

    /// <summary>Console errors and assertions, uncaught exceptions and error log entries, as text.</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>The URL of every request the page made.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The browser on PATH (chromium, chromium-browser, google-chrome), or null.</summary>
    public static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
                if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    private HeadlessChromium(Process process, string profile) => (_process, _profile) = (process, profile);

    /// <summary>Starts the browser (port 0: it picks a free one and writes it to DevToolsActivePort in the profile),
    /// connects, and opens a blank page of width x height CSS pixels with the Runtime, Log, Page and Network events on.</summary>
    public static HeadlessChromium Start(string exe, int width, int height)
    {
        string profile = Path.Combine(Path.GetTempPath(), $"tiny_chromium_{Guid.NewGuid():N}");
        Directory.CreateDirectory(profile);
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                                  "--disable-extensions", "--disable-background-networking", "--disable-dev-shm-usage",
                                  "--remote-debugging-port=0", $"--user-data-dir={profile}", "about:blank" })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };   // drained, so a chatty browser never blocks on a full pipe
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            browser.Connect(width, height);
            return browser;
        }
        catch
        {
            browser.Dispose();
            throw;
        }
    }

    private void Connect(int width, int height)
    {
        string portFile = Path.Combine(_profile, "DevToolsActivePort");
        var watch = Stopwatch.StartNew();
        string[] lines = [];
        while (lines.Length < 2)
        {
            if (_process.HasExited) throw new InvalidOperationException($"chromium exited with {_process.ExitCode} before it listened");
            if (watch.Elapsed > Timeout) throw new TimeoutException("chromium wrote no DevToolsActivePort in 30 s");
            Thread.Sleep(50);
            try { lines = File.Exists(portFile) ? File.ReadAllLines(portFile) : []; } catch (IOException) { }
        }
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        _socket.ConnectAsync(new Uri($"ws://127.0.0.1:{lines[0].Trim()}{lines[1].Trim()}"), _stop.Token).Wait(Timeout);
        _receiver = Task.Run(Receive);
        string target = Send("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, browserLevel: true).GetProperty("targetId").GetString()!;
        _session = Send("Target.attachToTarget", new JsonObject { ["targetId"] = target, ["flatten"] = true }, browserLevel: true).GetProperty("sessionId").GetString()!;
        foreach (var domain in new[] { "Runtime", "Log", "Page", "Network" }) Send(domain + ".enable");
        Send("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false });
    }

    /// <summary>Sends one command (to the page's session unless browserLevel) and returns its result; a protocol
    /// error or no answer in 30 s throws.</summary>
    public JsonElement Send(string method, JsonObject? parameters = null, bool browserLevel = false)
    {
        int id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (!browserLevel) message["sessionId"] = _session;
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        _sendLock.Wait();
        try { _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, _stop.Token).Wait(Timeout); }
        finally { _sendLock.Release(); }
        if (!answer.Task.Wait(Timeout)) throw new TimeoutException($"chromium did not answer {method} in 30 s");
        return answer.Task.Result;
    }

    private async Task Receive()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
            {
                var r = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (r.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage) continue;
                using (var doc = JsonDocument.Parse(message.ToArray())) Handle(doc.RootElement.Clone());
                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
        foreach (var p in _pending.Values) p.TrySetException(new InvalidOperationException("chromium closed the connection"));
    }

    private void Handle(JsonElement m)
    {
        if (m.TryGetProperty("id", out var id))
        {
            if (!_pending.TryRemove(id.GetInt32(), out var answer)) return;
            if (m.TryGetProperty("error", out var error)) answer.TrySetException(new InvalidOperationException($"chromium: {error}"));
            else answer.TrySetResult(m.GetProperty("result"));
            return;
        }
        var p = m.TryGetProperty("params", out var ps) ? ps : default;
        switch (m.GetProperty("method").GetString())
        {
            case "Runtime.consoleAPICalled" when p.GetProperty("type").GetString() is "error" or "assert":
                Errors.Enqueue("console: " + string.Join(" ", p.GetProperty("args").EnumerateArray().Select(a =>
                    a.TryGetProperty("value", out var v) ? v.ToString() : a.TryGetProperty("description", out var d) ? d.GetString() : a.ToString())));
                break;
            case "Runtime.exceptionThrown":
                var details = p.GetProperty("exceptionDetails");
                Errors.Enqueue("exception: " + (details.TryGetProperty("exception", out var ex) && ex.TryGetProperty("description", out var desc)
                    ? desc.GetString() : details.GetProperty("text").GetString()));
                break;
            case "Log.entryAdded" when p.GetProperty("entry").GetProperty("level").GetString() == "error":
                Errors.Enqueue("log: " + p.GetProperty("entry").GetProperty("text").GetString());
                break;
            case "Network.requestWillBeSent":
                Requests.Enqueue(p.GetProperty("request").GetProperty("url").GetString()!);
                break;
            case "Page.loadEventFired":
                _loaded.TrySetResult();
                break;
        }
    }

    /// <summary>Opens url in the page and waits for its load event.</summary>
    public void Navigate(string url)
    {
        _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        var r = Send("Page.navigate", new JsonObject { ["url"] = url });
        if (r.TryGetProperty("errorText", out var error)) throw new InvalidOperationException($"chromium could not open {url}: {error}");
        if (!_loaded.Task.Wait(Timeout)) throw new TimeoutException($"{url} did not load in 30 s");
    }

    /// <summary>The value of a script expression in the page (a promise is awaited); a thrown exception throws here.</summary>
    public JsonElement Evaluate(string expression)
    {
        var r = Send("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (r.TryGetProperty("exceptionDetails", out var ex)) throw new InvalidOperationException($"script threw: {ex}");
        return r.GetProperty("result").TryGetProperty("value", out var v) ? v : default;
    }

    /// <summary>The page's viewport as PNG bytes.</summary>
    public byte[] Screenshot() =>
        Convert.FromBase64String(Send("Page.captureScreenshot", new JsonObject { ["format"] = "png" }).GetProperty("data").GetString()!);

    /// <summary>Closes the browser (Browser.close, then this process's kill after 5 s) and removes its profile.</summary>
    public void Dispose()
    {
        try
        {
            if (_socket.State == WebSocketState.Open) _ = Task.Run(() => Send("Browser.close", browserLevel: true));
            if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
        _stop.Cancel();
        try { _receiver.Wait(2000); } catch (AggregateException) { }
        _socket.Dispose();
        _process.Dispose();
        for (int i = 0; i < 5; i++)
        {
            try { if (Directory.Exists(_profile)) Directory.Delete(_profile, recursive: true); break; }
            catch (IOException) { Thread.Sleep(200); }   // the browser's last writes
        }
    }
}
