/* Stand-ins for every OpenCL and CLBlast function clae calls. Each asks
 * clfault_inject whether this call is the one to fail, and if so returns
 * the error a real device gives there: allocation failures for buffers and
 * the transfers that place them, CL_OUT_OF_RESOURCES for launches and
 * queues, CL_BUILD_PROGRAM_FAILURE for a build, CLBlast's own codes for
 * CLBlast. Otherwise it calls the real function (the next definition after
 * this preloaded library) and records the references clae gains or drops,
 * so that an object never released is reported at exit. Retain and release
 * are never failed: they cannot fail on a valid object. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <CL/cl.h>
#include <clblast_c.h>

#include "clfault.h"

#define CALLER __builtin_return_address(0)

static void *next_definition(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        fprintf(stderr, "clfault: no definition of %s after this library\n",
                name);
        abort();
    }
    return f;
}

#define REAL(f) ((__typeof__(&f))next_definition(#f))

/* In a function returning a status: fail this call with `code`. */
#define MAYBE_FAIL(f, code) \
    if (clfault_inject(CALLER, #f, #code)) return (code)

/* In a function returning an object and reporting through errcode_ret. */
#define MAYBE_FAIL_OBJECT(f, code, errcode_ret)                              \
    if (clfault_inject(CALLER, #f, #code)) {                                 \
        if (errcode_ret) *(errcode_ret) = (code);                            \
        return NULL;                                                         \
    }

/* After a call that may have handed clae a new event. */
static cl_int gained_event(const void *caller, cl_int rc, cl_event *event)
{
    if (rc == CL_SUCCESS && event) clfault_gained(caller, *event, "cl_event");
    return rc;
}

/* ---- Platforms, devices, contexts, queues ----------------------------- */

cl_int clGetPlatformIDs(cl_uint num_entries, cl_platform_id *platforms,
                        cl_uint *num_platforms)
{
    MAYBE_FAIL(clGetPlatformIDs, CL_OUT_OF_HOST_MEMORY);
    return REAL(clGetPlatformIDs)(num_entries, platforms, num_platforms);
}

cl_int clGetPlatformInfo(cl_platform_id platform, cl_platform_info name,
                         size_t size, void *value, size_t *size_ret)
{
    MAYBE_FAIL(clGetPlatformInfo, CL_OUT_OF_HOST_MEMORY);
    return REAL(clGetPlatformInfo)(platform, name, size, value, size_ret);
}

cl_int clGetDeviceIDs(cl_platform_id platform, cl_device_type type,
                      cl_uint num_entries, cl_device_id *devices,
                      cl_uint *num_devices)
{
    MAYBE_FAIL(clGetDeviceIDs, CL_OUT_OF_RESOURCES);
    return REAL(clGetDeviceIDs)(platform, type, num_entries, devices,
                                num_devices);
}

cl_int clGetDeviceInfo(cl_device_id device, cl_device_info name, size_t size,
                       void *value, size_t *size_ret)
{
    MAYBE_FAIL(clGetDeviceInfo, CL_OUT_OF_RESOURCES);
    return REAL(clGetDeviceInfo)(device, name, size, value, size_ret);
}

cl_context clCreateContext(const cl_context_properties *properties,
                           cl_uint num_devices, const cl_device_id *devices,
                           void(CL_CALLBACK *notify)(const char *, const void *,
                                                     size_t, void *),
                           void *user_data, cl_int *errcode_ret)
{
    MAYBE_FAIL_OBJECT(clCreateContext, CL_OUT_OF_HOST_MEMORY, errcode_ret);
    cl_context c = REAL(clCreateContext)(properties, num_devices, devices,
                                         notify, user_data, errcode_ret);
    clfault_gained(CALLER, c, "cl_context");
    return c;
}

cl_int clRetainContext(cl_context context)
{
    cl_int rc = REAL(clRetainContext)(context);
    if (rc == CL_SUCCESS) clfault_gained(CALLER, context, "cl_context");
    return rc;
}

cl_int clReleaseContext(cl_context context)
{
    clfault_dropped(CALLER, context, "cl_context");
    return REAL(clReleaseContext)(context);
}

cl_command_queue clCreateCommandQueue(cl_context context, cl_device_id device,
                                      cl_command_queue_properties properties,
                                      cl_int *errcode_ret)
{
    MAYBE_FAIL_OBJECT(clCreateCommandQueue, CL_OUT_OF_RESOURCES, errcode_ret);
    cl_command_queue q =
        REAL(clCreateCommandQueue)(context, device, properties, errcode_ret);
    clfault_gained(CALLER, q, "cl_command_queue");
    return q;
}

cl_int clRetainCommandQueue(cl_command_queue queue)
{
    cl_int rc = REAL(clRetainCommandQueue)(queue);
    if (rc == CL_SUCCESS) clfault_gained(CALLER, queue, "cl_command_queue");
    return rc;
}

cl_int clGetCommandQueueInfo(cl_command_queue queue, cl_command_queue_info name,
                             size_t size, void *value, size_t *size_ret)
{
    MAYBE_FAIL(clGetCommandQueueInfo, CL_OUT_OF_RESOURCES);
    return REAL(clGetCommandQueueInfo)(queue, name, size, value, size_ret);
}

cl_int clReleaseCommandQueue(cl_command_queue queue)
{
    clfault_dropped(CALLER, queue, "cl_command_queue");
    return REAL(clReleaseCommandQueue)(queue);
}

cl_int clFlush(cl_command_queue queue)
{
    MAYBE_FAIL(clFlush, CL_OUT_OF_RESOURCES);
    return REAL(clFlush)(queue);
}

cl_int clFinish(cl_command_queue queue)
{
    MAYBE_FAIL(clFinish, CL_OUT_OF_RESOURCES);
    return REAL(clFinish)(queue);
}

/* ---- Buffers ------------------------------------------------------------ */

cl_mem clCreateBuffer(cl_context context, cl_mem_flags flags, size_t size,
                      void *host_ptr, cl_int *errcode_ret)
{
    MAYBE_FAIL_OBJECT(clCreateBuffer, CL_MEM_OBJECT_ALLOCATION_FAILURE,
                      errcode_ret);
    cl_mem m = REAL(clCreateBuffer)(context, flags, size, host_ptr, errcode_ret);
    clfault_gained(CALLER, m, "cl_mem");
    return m;
}

cl_int clRetainMemObject(cl_mem mem)
{
    cl_int rc = REAL(clRetainMemObject)(mem);
    if (rc == CL_SUCCESS) clfault_gained(CALLER, mem, "cl_mem");
    return rc;
}

cl_int clReleaseMemObject(cl_mem mem)
{
    clfault_dropped(CALLER, mem, "cl_mem");
    return REAL(clReleaseMemObject)(mem);
}

cl_int clGetMemObjectInfo(cl_mem mem, cl_mem_info name, size_t size,
                          void *value, size_t *size_ret)
{
    MAYBE_FAIL(clGetMemObjectInfo, CL_OUT_OF_RESOURCES);
    return REAL(clGetMemObjectInfo)(mem, name, size, value, size_ret);
}

cl_int clSetMemObjectDestructorCallback(cl_mem mem,
                                        void(CL_CALLBACK *notify)(cl_mem,
                                                                  void *),
                                        void *user_data)
{
    MAYBE_FAIL(clSetMemObjectDestructorCallback, CL_OUT_OF_HOST_MEMORY);
    return REAL(clSetMemObjectDestructorCallback)(mem, notify, user_data);
}

/* ---- Programs and kernels ----------------------------------------------- */

cl_program clCreateProgramWithSource(cl_context context, cl_uint count,
                                     const char **strings,
                                     const size_t *lengths,
                                     cl_int *errcode_ret)
{
    MAYBE_FAIL_OBJECT(clCreateProgramWithSource, CL_OUT_OF_HOST_MEMORY,
                      errcode_ret);
    cl_program p = REAL(clCreateProgramWithSource)(context, count, strings,
                                                   lengths, errcode_ret);
    clfault_gained(CALLER, p, "cl_program");
    return p;
}

cl_program clCreateProgramWithBinary(cl_context context, cl_uint num_devices,
                                     const cl_device_id *devices,
                                     const size_t *lengths,
                                     const unsigned char **binaries,
                                     cl_int *binary_status,
                                     cl_int *errcode_ret)
{
    MAYBE_FAIL_OBJECT(clCreateProgramWithBinary, CL_INVALID_BINARY,
                      errcode_ret);
    cl_program p = REAL(clCreateProgramWithBinary)(
        context, num_devices, devices, lengths, binaries, binary_status,
        errcode_ret);
    clfault_gained(CALLER, p, "cl_program");
    return p;
}

cl_int clBuildProgram(cl_program program, cl_uint num_devices,
                      const cl_device_id *devices, const char *options,
                      void(CL_CALLBACK *notify)(cl_program, void *),
                      void *user_data)
{
    MAYBE_FAIL(clBuildProgram, CL_BUILD_PROGRAM_FAILURE);
    return REAL(clBuildProgram)(program, num_devices, devices, options, notify,
                                user_data);
}

cl_int clGetProgramInfo(cl_program program, cl_program_info name, size_t size,
                        void *value, size_t *size_ret)
{
    MAYBE_FAIL(clGetProgramInfo, CL_OUT_OF_HOST_MEMORY);
    return REAL(clGetProgramInfo)(program, name, size, value, size_ret);
}

cl_int clGetProgramBuildInfo(cl_program program, cl_device_id device,
                             cl_program_build_info name, size_t size,
                             void *value, size_t *size_ret)
{
    MAYBE_FAIL(clGetProgramBuildInfo, CL_OUT_OF_HOST_MEMORY);
    return REAL(clGetProgramBuildInfo)(program, device, name, size, value,
                                       size_ret);
}

cl_int clReleaseProgram(cl_program program)
{
    clfault_dropped(CALLER, program, "cl_program");
    return REAL(clReleaseProgram)(program);
}

cl_kernel clCreateKernel(cl_program program, const char *name,
                         cl_int *errcode_ret)
{
    MAYBE_FAIL_OBJECT(clCreateKernel, CL_OUT_OF_RESOURCES, errcode_ret);
    cl_kernel k = REAL(clCreateKernel)(program, name, errcode_ret);
    clfault_gained(CALLER, k, "cl_kernel");
    return k;
}

cl_int clReleaseKernel(cl_kernel kernel)
{
    clfault_dropped(CALLER, kernel, "cl_kernel");
    return REAL(clReleaseKernel)(kernel);
}

cl_int clGetKernelWorkGroupInfo(cl_kernel kernel, cl_device_id device,
                                cl_kernel_work_group_info name, size_t size,
                                void *value, size_t *size_ret)
{
    MAYBE_FAIL(clGetKernelWorkGroupInfo, CL_OUT_OF_RESOURCES);
    return REAL(clGetKernelWorkGroupInfo)(kernel, device, name, size, value,
                                          size_ret);
}

cl_int clSetKernelArg(cl_kernel kernel, cl_uint index, size_t size,
                      const void *value)
{
    MAYBE_FAIL(clSetKernelArg, CL_OUT_OF_RESOURCES);
    return REAL(clSetKernelArg)(kernel, index, size, value);
}

/* ---- Commands and events ------------------------------------------------ */

cl_int clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel,
                              cl_uint dims, const size_t *offset,
                              const size_t *global, const size_t *local,
                              cl_uint num_waits, const cl_event *waits,
                              cl_event *event)
{
    MAYBE_FAIL(clEnqueueNDRangeKernel, CL_OUT_OF_RESOURCES);
    return gained_event(CALLER,
                        REAL(clEnqueueNDRangeKernel)(queue, kernel, dims,
                                                     offset, global, local,
                                                     num_waits, waits, event),
                        event);
}

cl_int clEnqueueWriteBuffer(cl_command_queue queue, cl_mem buffer,
                            cl_bool blocking, size_t offset, size_t size,
                            const void *ptr, cl_uint num_waits,
                            const cl_event *waits, cl_event *event)
{
    MAYBE_FAIL(clEnqueueWriteBuffer, CL_MEM_OBJECT_ALLOCATION_FAILURE);
    return gained_event(CALLER,
                        REAL(clEnqueueWriteBuffer)(queue, buffer, blocking,
                                                   offset, size, ptr,
                                                   num_waits, waits, event),
                        event);
}

cl_int clEnqueueReadBuffer(cl_command_queue queue, cl_mem buffer,
                           cl_bool blocking, size_t offset, size_t size,
                           void *ptr, cl_uint num_waits, const cl_event *waits,
                           cl_event *event)
{
    MAYBE_FAIL(clEnqueueReadBuffer, CL_OUT_OF_RESOURCES);
    return gained_event(CALLER,
                        REAL(clEnqueueReadBuffer)(queue, buffer, blocking,
                                                  offset, size, ptr, num_waits,
                                                  waits, event),
                        event);
}

cl_int clEnqueueCopyBuffer(cl_command_queue queue, cl_mem from, cl_mem to,
                           size_t from_offset, size_t to_offset, size_t size,
                           cl_uint num_waits, const cl_event *waits,
                           cl_event *event)
{
    MAYBE_FAIL(clEnqueueCopyBuffer, CL_MEM_OBJECT_ALLOCATION_FAILURE);
    return gained_event(CALLER,
                        REAL(clEnqueueCopyBuffer)(queue, from, to, from_offset,
                                                  to_offset, size, num_waits,
                                                  waits, event),
                        event);
}

cl_int clEnqueueFillBuffer(cl_command_queue queue, cl_mem buffer,
                           const void *pattern, size_t pattern_size,
                           size_t offset, size_t size, cl_uint num_waits,
                           const cl_event *waits, cl_event *event)
{
    MAYBE_FAIL(clEnqueueFillBuffer, CL_MEM_OBJECT_ALLOCATION_FAILURE);
    return gained_event(CALLER,
                        REAL(clEnqueueFillBuffer)(queue, buffer, pattern,
                                                  pattern_size, offset, size,
                                                  num_waits, waits, event),
                        event);
}

cl_int clEnqueueMarkerWithWaitList(cl_command_queue queue, cl_uint num_waits,
                                   const cl_event *waits, cl_event *event)
{
    MAYBE_FAIL(clEnqueueMarkerWithWaitList, CL_OUT_OF_HOST_MEMORY);
    return gained_event(
        CALLER, REAL(clEnqueueMarkerWithWaitList)(queue, num_waits, waits, event),
        event);
}

cl_int clEnqueueBarrierWithWaitList(cl_command_queue queue, cl_uint num_waits,
                                    const cl_event *waits, cl_event *event)
{
    MAYBE_FAIL(clEnqueueBarrierWithWaitList, CL_OUT_OF_HOST_MEMORY);
    return gained_event(
        CALLER,
        REAL(clEnqueueBarrierWithWaitList)(queue, num_waits, waits, event),
        event);
}

cl_int clWaitForEvents(cl_uint count, const cl_event *events)
{
    MAYBE_FAIL(clWaitForEvents, CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
    return REAL(clWaitForEvents)(count, events);
}

cl_int clGetEventProfilingInfo(cl_event event, cl_profiling_info name,
                               size_t size, void *value, size_t *size_ret)
{
    MAYBE_FAIL(clGetEventProfilingInfo, CL_PROFILING_INFO_NOT_AVAILABLE);
    return REAL(clGetEventProfilingInfo)(event, name, size, value, size_ret);
}

cl_int clRetainEvent(cl_event event)
{
    cl_int rc = REAL(clRetainEvent)(event);
    if (rc == CL_SUCCESS) clfault_gained(CALLER, event, "cl_event");
    return rc;
}

cl_int clReleaseEvent(cl_event event)
{
    clfault_dropped(CALLER, event, "cl_event");
    return REAL(clReleaseEvent)(event);
}

/* ---- CLBlast ------------------------------------------------------------ */

CLBlastStatusCode CLBlastSgemm(const CLBlastLayout layout,
                               const CLBlastTranspose ta,
                               const CLBlastTranspose tb, const size_t m,
                               const size_t n, const size_t k,
                               const float alpha, const cl_mem a,
                               const size_t a_off, const size_t lda,
                               const cl_mem b, const size_t b_off,
                               const size_t ldb, const float beta, cl_mem c,
                               const size_t c_off, const size_t ldc,
                               cl_command_queue *queue, cl_event *event)
{
    MAYBE_FAIL(CLBlastSgemm, CL_OUT_OF_RESOURCES);
    return gained_event(CALLER,
                        REAL(CLBlastSgemm)(layout, ta, tb, m, n, k, alpha, a,
                                           a_off, lda, b, b_off, ldb, beta, c,
                                           c_off, ldc, queue, event),
                        event);
}

CLBlastStatusCode CLBlastSgemmWithTempBuffer(
    const CLBlastLayout layout, const CLBlastTranspose ta,
    const CLBlastTranspose tb, const size_t m, const size_t n, const size_t k,
    const float alpha, const cl_mem a, const size_t a_off, const size_t lda,
    const cl_mem b, const size_t b_off, const size_t ldb, const float beta,
    cl_mem c, const size_t c_off, const size_t ldc, cl_command_queue *queue,
    cl_event *event, cl_mem temp)
{
    MAYBE_FAIL(CLBlastSgemmWithTempBuffer, CLBlastInsufficientMemoryTemp);
    return gained_event(CALLER,
                        REAL(CLBlastSgemmWithTempBuffer)(
                            layout, ta, tb, m, n, k, alpha, a, a_off, lda, b,
                            b_off, ldb, beta, c, c_off, ldc, queue, event, temp),
                        event);
}

CLBlastStatusCode CLBlastSGemmTempBufferSize(
    const CLBlastLayout layout, const CLBlastTranspose ta,
    const CLBlastTranspose tb, const size_t m, const size_t n, const size_t k,
    const size_t a_off, const size_t lda, const size_t b_off, const size_t ldb,
    const size_t c_off, const size_t ldc, cl_command_queue *queue,
    size_t *bytes)
{
    MAYBE_FAIL(CLBlastSGemmTempBufferSize, CLBlastUnexpectedError);
    return REAL(CLBlastSGemmTempBufferSize)(layout, ta, tb, m, n, k, a_off, lda,
                                            b_off, ldb, c_off, ldc, queue,
                                            bytes);
}

CLBlastStatusCode CLBlastOverrideParameters(const cl_device_id device,
                                            const char *kernel,
                                            const CLBlastPrecision precision,
                                            const size_t count,
                                            const char **names,
                                            const size_t *values)
{
    MAYBE_FAIL(CLBlastOverrideParameters, CLBlastInvalidOverrideKernel);
    return REAL(CLBlastOverrideParameters)(device, kernel, precision, count,
                                           names, values);
}

CLBlastStatusCode CLBlastClearCache(void)
{
    MAYBE_FAIL(CLBlastClearCache, CLBlastUnexpectedError);
    return REAL(CLBlastClearCache)();
}
