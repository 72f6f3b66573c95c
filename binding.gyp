# node-gyp entry point, for tools that rebuild addons with `node-gyp rebuild` (electron-rebuild,
# prebuild). It compiles nothing itself: its one action runs scripts/build.mjs, the project's single
# build path (CMakeLists.txt through cmake-js), so every route builds the same binary.
{
  "targets": [
    {
      "target_name": "eia_native_cmake",
      "type": "none",
      "actions": [
        {
          "action_name": "cmake_build",
          "inputs": ["CMakeLists.txt"],
          "outputs": ["build/Release/eia_native.node"],
          "action": ["node", "scripts/build.mjs"]
        }
      ]
    }
  ]
}
