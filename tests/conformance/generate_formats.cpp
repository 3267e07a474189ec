// peerchain-conformance-formats: writes the format vectors of tests/conformance (genesis,
// serialization, merkle, pow, asert, sighash, addresses) from the node's own code, so
// that a second implementation can check itself against what this node computes.
//
// Usage: peerchain-conformance-formats <directory>   (normally tests/conformance)
//
// Deterministic: every key, aux randomness, time and payload is fixed here, so two runs
// write the same bytes. The files are committed and formats_test.cpp checks the code
// against them; running this again is only right after a deliberate consensus change,
// which also needs a docs/PROTOCOL.md change (README.md).
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/conformance/formats_vectors.hpp"

namespace peerchain::conformance {
namespace {

namespace json = boost::json;

// One line of JSON with a space after each ':' and ','.
std::string flat(const json::value& v) {
    std::string out;
    if (v.is_object()) {
        out += "{";
        for (const auto& kv : v.as_object()) {
            if (out.size() > 1) out += ", ";
            out += json::serialize(json::string(kv.key())) + ": " + flat(kv.value());
        }
        return out + "}";
    }
    if (v.is_array()) {
        out += "[";
        for (const auto& e : v.as_array()) {
            if (out.size() > 1) out += ", ";
            out += flat(e);
        }
        return out + "]";
    }
    return json::serialize(v);
}

// Pretty-printed JSON: a value whose one-line form fits in 100 columns stays on one line,
// anything larger gets one member or element a line, so that a diff shows what moved.
void pretty(std::string& out, const json::value& v, std::size_t indent, std::size_t used) {
    const std::string line = flat(v);
    if (indent + used + line.size() <= 100 || (!v.is_object() && !v.is_array())) {
        out += line;
        return;
    }
    const std::string pad(indent + 2, ' ');
    if (v.is_object()) {
        out += "{\n";
        const auto& obj = v.as_object();
        std::size_t i = 0;
        for (const auto& kv : obj) {
            const std::string key = json::serialize(json::string(kv.key())) + ": ";
            out += pad + key;
            pretty(out, kv.value(), indent + 2, key.size() + 1);
            out += ++i < obj.size() ? ",\n" : "\n";
        }
        out += std::string(indent, ' ') + "}";
    } else {
        out += "[\n";
        const auto& arr = v.as_array();
        for (std::size_t i = 0; i < arr.size(); ++i) {
            out += pad;
            pretty(out, arr[i], indent + 2, 1);
            out += i + 1 < arr.size() ? ",\n" : "\n";
        }
        out += std::string(indent, ' ') + "]";
    }
}

bool write_file(const std::filesystem::path& dir, const std::string& name, const json::value& v) {
    std::string text;
    pretty(text, v, 0, 0);
    text += "\n";
    std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
        std::fprintf(stderr, "cannot write %s\n", (dir / name).string().c_str());
        return false;
    }
    std::printf("wrote %s\n", (dir / name).string().c_str());
    return true;
}

}  // namespace
}  // namespace peerchain::conformance

int main(int argc, char** argv) {
    using namespace peerchain::conformance;
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    bool ok = true;
    ok = write_file(dir, "genesis.json", genesis_vectors()) && ok;
    ok = write_file(dir, "serialization.json", serialization_vectors()) && ok;
    ok = write_file(dir, "merkle.json", merkle_vectors()) && ok;
    ok = write_file(dir, "pow.json", pow_vectors()) && ok;
    ok = write_file(dir, "asert.json", asert_vectors()) && ok;
    ok = write_file(dir, "sighash.json", sighash_vectors()) && ok;
    ok = write_file(dir, "addresses.json", address_vectors()) && ok;
    return ok ? 0 : 1;
}
