// GCC 13's libstdc++ exports std::ios_base_library_init() (GLIBCXX_3.4.32) and TorchSharp's native glue
// was linked against it. Debian 12 ships GCC 12's libstdc++, which lacks it. The function only has to
// make sure the standard streams are constructed, which a static ios_base::Init does.
#include <ios>

namespace std
{
    __attribute__((visibility("default"))) void ios_base_library_init()
    {
        static ios_base::Init init;
    }
}
