#include "protocol/version.h"

#include <cstdio>
#include <cstring>

int main(int argc, char **argv)
{
    if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
        std::printf("mailmesh-agent %.*s\n", static_cast<int>(mm::protocol::mailmeshVersion().size()),
                    mm::protocol::mailmeshVersion().data());
        return 0;
    }
    std::fprintf(stderr, "usage: mailmesh-agent --version\n");
    return 2;
}
