// DeviceOption: the --device flag of train and eval: a name made into a started Device, or one line of error.
using System.CommandLine;

namespace Tiny.Cli;

internal static class DeviceOption
{
    /// <summary>The values --device takes.</summary>
    public const string Values = "auto|cpu|cuda[:i]|opencl[:i]|ilgpu-cpu";

    /// <summary>The --device option; what runs there is what description says. The name is checked and the device
    /// started by <see cref="Resolve"/> when the command runs (not while parsing: --help starts no driver).</summary>
    public static Option<string> Create(string description) => CliParsing.Value("--device", "D", $"{Values}: {description}", text => text);

    /// <summary>The device named by text, its backend started. A missing GPU or a bad name is an ArgumentException of
    /// one line.</summary>
    public static Device Resolve(string text)
    {
        try
        {
            var d = Device.Resolve(text);
            _ = d.Backend;   // start it now: a driver that fails is this flag's error, not a crash mid-run
            return d;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ArgumentException($"--device {text}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
