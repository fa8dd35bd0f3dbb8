# Build the one-folder allscope application on Windows and pack it as
# dist\allscope-<version>-windows-<arch>.zip. Run from any folder:
#
#   powershell -ExecutionPolicy Bypass -File installer\build.ps1
#
# Needs the build extra: .venv\Scripts\python -m pip install -e .[build]
# Set $env:PYTHON to use another interpreter (default: .venv\Scripts\python.exe).
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")

$python = if ($env:PYTHON) { $env:PYTHON } elseif (Test-Path ".venv\Scripts\python.exe") { ".venv\Scripts\python.exe" } else { "python" }
& $python -m PyInstaller --version *> $null
if ($LASTEXITCODE -ne 0) {
    Write-Error "PyInstaller is not installed for ${python}: run $python -m pip install -e .[build]"
    exit 2
}

$version = (& $python -c "import allscope; print(allscope.__version__)").Trim()
$arch = $env:PROCESSOR_ARCHITECTURE.ToLower()
$archive = "dist\allscope-$version-windows-$arch.zip"

$watch = [Diagnostics.Stopwatch]::StartNew()
& $python -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build installer\allscope.spec
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
$built = [int]$watch.Elapsed.TotalSeconds

# The bundle must pass its own self-test before it is packed (needs a default model).
if (Test-Path "models\default\model.json") {
    $env:QT_QPA_PLATFORM = "offscreen"
    & dist\allscope\allscope.exe --self-test
    $code = $LASTEXITCODE
    Remove-Item Env:\QT_QPA_PLATFORM
    if ($code -ne 0) { exit $code }
} else {
    Write-Warning "models\default has no model package: self-test skipped, the bundle has no default model"
}

if (Test-Path $archive) { Remove-Item $archive }
Compress-Archive -Path dist\allscope -DestinationPath $archive
$size = "{0:N0} MB" -f ((Get-ChildItem dist\allscope -Recurse -File | Measure-Object Length -Sum).Sum / 1MB)
Write-Output "bundle:  dist\allscope ($size unpacked), built in $built s"
Write-Output ("archive: $archive ({0:N0} MB)" -f ((Get-Item $archive).Length / 1MB))
