#include "cli/cli.h"

int main(int argc, char** argv) { return tasker::cli::run(argc, argv); }
