// tsdsr-client: the command-line client. All logic lives in client_app.cc (unit-tested); see --help.
#include <iostream>

#include "client/client_app.h"

int main(int argc, char** argv) { return tsdsr::client::ClientMain(argc, argv, std::cout, std::cerr); }
