# Source this file: it puts Node.js >= 24 first on PATH. Where the machine's node is older (or
# missing), it installs the official Node 24 binary package for this OS and CPU from the npm
# registry into .tools/node24 (once; about 7 s) — no curl | sh, no version manager needed.
_sg_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_sg_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$_sg_major" -lt 24 ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "shipgate: npm is needed to install Node 24. Install Node.js (any version) first:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install -y nodejs npm    macOS: brew install node" >&2
    return 1 2>/dev/null || exit 1
  fi
  case "$(uname -s)" in Linux) _sg_os=linux ;; Darwin) _sg_os=darwin ;; *) echo "shipgate: unsupported OS $(uname -s)" >&2; return 1 2>/dev/null || exit 1 ;; esac
  case "$(uname -m)" in x86_64|amd64) _sg_arch=x64 ;; arm64|aarch64) _sg_arch=arm64 ;; *) echo "shipgate: unsupported CPU $(uname -m)" >&2; return 1 2>/dev/null || exit 1 ;; esac
  _sg_pkg="node-$_sg_os-$_sg_arch"
  _sg_bin="$_sg_root/.tools/node24/node_modules/$_sg_pkg/bin"
  if [ ! -x "$_sg_bin/node" ]; then
    echo "shipgate: node $(node --version 2>/dev/null || echo none) is older than 24; installing $_sg_pkg@24 into .tools/node24" >&2
    mkdir -p "$_sg_root/.tools/node24"
    npm install --silent --prefix "$_sg_root/.tools/node24" --no-save --no-package-lock "$_sg_pkg@24" >&2
  fi
  export PATH="$_sg_bin:$PATH"
fi
unset _sg_major _sg_os _sg_arch _sg_pkg _sg_bin
