/* Compiled inside the job step: reports the machine the kernel says it runs on. */
#include <stdio.h>
#include <sys/utsname.h>

int main(void) {
    struct utsname name;
    if (uname(&name) != 0) {
        return 1;
    }
    printf("machine=%s\n", name.machine);
    return 0;
}
